"""Task 11: anomaly detection on any table (pyod detectors fitted per request)."""
