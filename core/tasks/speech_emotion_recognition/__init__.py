"""Task 07: speech emotion recognition on a synthetic acted-prosody corpus (eSpeak NG) or real acted speech."""
