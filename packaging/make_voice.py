"""Generate the kiosk's spoken prompts with espeak-ng's Mandarin voice (offline, reproducible).

    uv run python packaging/make_voice.py            # (re)write assets/voice/zh_CN/*.wav + manifest.json
    uv run python packaging/make_voice.py --check    # exit 1 if a file is missing or out of date

Every sentence comes from the text catalogue kiosk/texts/zh_CN.py (`kiosk.texts.all_voice_texts()`:
screen instructions, action prompts, guidance, results, next steps, refusals, status). Files are named by code (prompt_blink.wav,
guidance_too_dark.wav, result_ok.wav ...), 16 kHz mono 16-bit PCM. The manifest records
each code's text and the espeak-ng settings, so a re-run with the same espeak-ng version
gives the same files; files whose text and settings are unchanged are left alone.

A service point may replace any WAV with its own recording (dialect, a familiar voice):
keep the file name. The app also looks in $KIOSK_HOME/voice/zh_CN/ first, so recordings
can be dropped there without touching the installation. Needs `espeak-ng`
(`apt-get install espeak-ng`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.texts import all_voice_texts as all_texts  # noqa: E402

OUT = ROOT / "assets" / "voice" / "zh_CN"
VOICE = "cmn"
SPEED_WPM = 165  # espeak-ng cmn speaks ~2.5 syllables a second at this setting: slow and clear for old listeners
PITCH = 45
AMPLITUDE = 160
RATE = 16000


def _espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    return out.split("Data at")[0].strip()


def _synth(text: str, dst: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED_WPM), "-p", str(PITCH), "-a", str(AMPLITUDE),
                        "-w", str(raw), text], check=True, capture_output=True)
        with wave.open(str(raw)) as w:
            src_rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        assert width == 2 and channels == 1, (width, channels)
    # Linear resampling to 16 kHz (deterministic; speech needs nothing fancier), 80 ms of
    # silence on each end so the first syllable is not clipped by an audio device waking up.
    n = round(len(pcm) * RATE / src_rate)
    x = np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm.astype(np.float64))
    pad = np.zeros(int(0.08 * RATE))
    out = np.clip(np.round(np.concatenate([pad, x, pad])), -32768, 32767).astype("<i2")
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(out.tobytes())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report missing or outdated files")
    ap.add_argument("--force", action="store_true", help="regenerate every file")
    args = ap.parse_args(argv)
    if shutil.which("espeak-ng") is None and not args.check:
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    texts = all_texts()
    settings = {"engine": "espeak-ng", "voice": VOICE, "speed_wpm": SPEED_WPM, "pitch": PITCH,
                "amplitude": AMPLITUDE, "rate_hz": RATE}
    manifest_path = OUT / "manifest.json"
    old = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    old_entries = old.get("prompts", {}) if old.get("settings") == settings else {}
    stale = [c for c, t in texts.items()
             if args.force or old_entries.get(c, {}).get("text") != t or not (OUT / f"{c}.wav").is_file()]
    if args.check:
        for c in stale:
            print(f"out of date: {c}")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for code in stale:
        _synth(texts[code], OUT / f"{code}.wav")
        print(f"wrote {code}.wav  {texts[code]}")
    prompts = {}
    for code, text in sorted(texts.items()):
        data = (OUT / f"{code}.wav").read_bytes()
        prompts[code] = {"file": f"{code}.wav", "text": text,
                         "sha256": old_entries.get(code, {}).get("sha256") if code not in stale else None}
        prompts[code]["sha256"] = hashlib.sha256(data).hexdigest()
    for extra in sorted({p.stem for p in OUT.glob("*.wav")} - set(texts)):
        (OUT / f"{extra}.wav").unlink()
        print(f"removed {extra}.wav (no longer used)")
    manifest = {"language": "zh_CN", "settings": settings, "generator": "packaging/make_voice.py",
                "espeak_ng": _espeak_version(), "prompts": prompts}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.glob("*.wav"))
    print(f"{len(prompts)} prompts in {OUT.relative_to(ROOT)} ({total / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
