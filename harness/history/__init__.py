"""The history of every run, and the regression verdicts judged against it.

spec.py         slas.yaml's ``regression:`` (no heavy imports: the catalogue reads it)
location.py     ``defaults.history``: a path or a ``sqlite:///`` URL
store.py        the SQLite file: schema, checks, appending a run, reading runs and values
figures.py      a verdict's named figures, as stored and compared
changepoint.py  E-Divisive (MongoDB's signal-processing-algorithms) over a short series
regression.py   an objective's ``<id>:regression`` verdict from its earlier values
recording.py    what ``write_reports`` is given: judge the regressions, then append the run
revision.py     the git revision of the stack under test
"""
