"""The quiz engine: questions with choices, graded attempts, pass marks per lesson."""
