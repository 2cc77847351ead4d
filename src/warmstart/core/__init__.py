"""Pure computation: vocabularies, their diff and remap, initializers, labels, verdicts.

numpy and pandas, and Numba for the compiled subword search and row composition
(`subword_join`, `char_ngrams`, `weighted_rows`, imported only when `subword` runs); never
MLflow, Keras, TensorFlow, Hydra or OmegaConf (the `pure-core` import contract).
"""
