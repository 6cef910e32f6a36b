"""Datasets in the web app: uploads, their checks, crops and captions, per learner."""
