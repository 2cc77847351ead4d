"""The MLflow side of warmstart: stage runs, metrics, datasets, reuse, the model registry.

Import from the module that does the job: `connection` (store and experiment), `runs` (a
stage's run, ended FAILED or KILLED, never left RUNNING), `metrics` (epoch metrics that
survive a server restart), `datasets`, `reuse`, `publish` and `resolve` (registry versions
whose files are verified), `version_format` (the file and tag names a version carries),
`stage_names` and `aliases` (the stages' and the registry aliases' names), `promotion` (the
champion gate) and `promotion_record` (its decision, written down), `write_retry` (lost write
races between concurrent stages), `pyfunc` and `sweep`.
"""
