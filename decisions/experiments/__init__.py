"""Randomised tests at customer level: their analysis (uplift per audience), their actions' names and copy."""
