"""Task 08: automatic speech recognition (English) with Whisper tiny.en or PocketSphinx.

normalise.py  text normalisation for WER/CER        chunking.py  VAD chunks of long audio
engines.py    the recognisers (one chunk at a time)  adapter.py   /transcribe: load, chunk, merge
live.py       microphone streaming                   subtitles.py SRT and VTT
evaluate.py   WER/CER/RTF on real read speech        card.py      metrics.json and the model card
hub.py        the opt-in Hub Whisper (base.en)      examples.py  the example clips (from pocketsphinx-testdata)
"""
