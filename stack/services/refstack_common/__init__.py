"""Pieces every stack service shares: the JSON log format (rule 7.2) and the environment readers.

Standard library only, so the project's test interpreter can import it as well as the image's python3.
"""
