"""Task 10: time-series forecasting (seasonal naive, ETS, SARIMA, Theta, auto)."""
