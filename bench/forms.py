#!/usr/bin/env python3
"""The benchmark's long.csv as a French finance export writes it, to measure
what the new number and date forms cost (docs/PERFORMANCE.md, Import):
';' delimiter, month names with two-digit years ("sept.-22"), values with a
decimal comma, no-break spaces between thousands and a euro sign
("1 143,00 €"), every tenth one negative in accountants' parentheses.

    python3 bench/forms.py IN.csv OUT.csv
"""
import sys

MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]


def money(v, neg):
    text = f"{v:,.2f}".replace(",", "\u00a0").replace(".", ",") + "\u00a0€"
    return f"({text})" if neg else text


def main(src, dst):
    with open(src) as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        next(fin)
        fout.write("Mois;Équipe;Indicateur;Valeur\r\n")
        for i, line in enumerate(fin):
            date, team, kpi, value = line.rstrip("\n").split(",")
            year, month = date.split("-")
            label = f"{MONTHS[int(month) - 1]}-{year[2:]}"
            fout.write(f"{label};{team};{kpi};{money(float(value), i % 10 == 9)}\r\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
