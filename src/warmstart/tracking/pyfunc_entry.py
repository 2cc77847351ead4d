"""Models-from-code entry for the registered pyfunc: MLflow runs this file on load.

Logging the model as code, not as a pickled Python object, keeps pickle off the load path.
"""

from mlflow.models import set_model

from warmstart.tracking.pyfunc import TextClassifier

set_model(TextClassifier())
