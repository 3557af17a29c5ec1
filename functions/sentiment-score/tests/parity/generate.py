#!/usr/bin/env python3
"""Regenerates corpus.jsonl: varied tweet-like texts and the scores the
reference, vaderSentiment 3.3.2 (PyPI), gives them.

    pip install vaderSentiment==3.3.2 && python3 functions/sentiment-score/tests/parity/generate.py

Deterministic (fixed seed): the same file comes out every run. The texts mix
lexicon words, negations, boosters and dampeners, ALL CAPS, "but", "kind of",
!/? emphasis, the idioms, emoji, mixed scripts, empty and very long texts.
"""
import json
import os
import random

import vaderSentiment
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SPECIAL_CASES, SentimentIntensityAnalyzer

assert vaderSentiment.__name__ and SentimentIntensityAnalyzer, "vaderSentiment missing"
HERE = os.path.dirname(os.path.abspath(__file__))
RNG = random.Random(20261126)
ANALYZER = SentimentIntensityAnalyzer()

LEXICON = sorted(ANALYZER.lexicon)
EMOJI = sorted(ANALYZER.emojis)
BOOSTERS = sorted(BOOSTER_DICT)
NEGATIONS = sorted(NEGATE)
IDIOMS = sorted(SPECIAL_CASES)
NEUTRAL = "the a my this that phone game movie team weather coffee monday update service flight app day night city".split()
SCRIPTS = ["привет мир", "这是一个测试", "مرحبا بالعالم", "γειά σου κόσμε", "こんにちは", "안녕하세요", "שלום", "नमस्ते दुनिया"]
FIXED = [
    "", " ", "\n", "VADER is smart, handsome, and funny.", "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.", "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!", "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.", "The book was good.", "At least it isn't a horrible book.",
    "The book was only kind of good.", "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!", "Today only kinda sux! But I'll get by, lol", "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁", "Not bad at all", "not bad", "never good", "least good",
    "at least good", "very least good", "no problem", "yeah right", "the bomb", "cut the mustard", "kiss of death",
    "hand to mouth", "the shit", "bad ass", "badass", "?", "!!!", "???", "!?!?", ":(", ":-)", "<3", "</3",
    "I ❤️ NY", "😂😂😂", "👍", "👎 nope", "ALL CAPS NO SENTIMENT", "GREAT", "great", "Great!", "GREAT!!!!",
    "it was great but", "but it was great", "it was bad but great", "it isn't great", "it wasn't bad",
    "it ain't bad", "without doubt good", "I don't love it", "I do not hate it", "nor good nor bad",
]


def sentence():
    words = []
    for _ in range(RNG.randint(2, 14)):
        r = RNG.random()
        if r < 0.35:
            words.append(RNG.choice(LEXICON))
        elif r < 0.45:
            words.append(RNG.choice(BOOSTERS))
        elif r < 0.55:
            words.append(RNG.choice(NEGATIONS))
        elif r < 0.60:
            words.append("kind of")
        elif r < 0.65:
            words.append("but")
        elif r < 0.70:
            words.append(RNG.choice(IDIOMS))
        elif r < 0.77:
            words.append(RNG.choice(EMOJI))
        else:
            words.append(RNG.choice(NEUTRAL))
    if RNG.random() < 0.2:
        i = RNG.randrange(len(words))
        words[i] = words[i].upper()
    if RNG.random() < 0.1:
        words = [w.upper() for w in words]
    text = " ".join(words)
    text += RNG.choice(["", "", ".", "!", "!!", "!!!!!", "?", "??", "?!", " :)", " :(", " lol", " #blessed"])
    if RNG.random() < 0.08:
        text = RNG.choice(["@user ", "RT @news: ", "#mood "]) + text + RNG.choice(["", " http://t.co/x1", " #fail"])
    if RNG.random() < 0.06:
        text = RNG.choice(SCRIPTS) + " " + text
    return text


def texts():
    yield from FIXED
    for word in RNG.sample(LEXICON, 150):
        yield word
    for _ in range(1000):
        yield sentence()
    for emoji in RNG.sample(EMOJI, 60):
        yield f"{RNG.choice(NEUTRAL)} {emoji}"
    for n in (1000, 5000):
        yield " ".join(sentence() for _ in range(n // 8))
    yield "good " * 2000
    yield "😍" * 500


def main():
    out = os.path.join(HERE, "corpus.jsonl")
    count = 0
    with open(out, "w", encoding="utf-8") as f:
        for text in texts():
            s = ANALYZER.polarity_scores(text)
            f.write(json.dumps({"text": text, **s}, ensure_ascii=False) + "\n")
            count += 1
    print(f"wrote {count} texts to {out}")


if __name__ == "__main__":
    main()
