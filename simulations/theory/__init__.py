"""The formulas the predictions and the tests share: one implementation of each, its source
in its docstring."""
