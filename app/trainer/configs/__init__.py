"""Model configs shipped with the project, so base models load with no model hub."""
