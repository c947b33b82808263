#!/usr/bin/env python3
"""`ea_non_iid [-q] -o OUT FILE BITS` through PyPI's sp800-90b 0.1.1.

The fallback of scripts/nist-tool.sh when Debian's binary package cannot be
had: that package wraps NIST's 2020 SP 800-90B code as a Python module
(`sp800_90b.Data(bytes, bits, False)` and one method per estimator). This
writes the estimates in the layout of `ea_non_iid -o` (testCases with
`testCaseDesc`, hOriginal/hBitstring, tTupleRes/lrsRes and their binary
twins, and "Overall"); the MCV intermediates and the run's metadata are not
available through the module and are left out.
"""
import argparse
import json
import sys

import sp800_90b

if "--version" in sys.argv:
    print("sp800-90b 0.1.1 (PyPI), NIST's 2020 code")
    sys.exit(0)
parser = argparse.ArgumentParser()
parser.add_argument("-q", action="store_true")
parser.add_argument("-o", dest="out", required=True)
parser.add_argument("-v", action="count", default=0)
parser.add_argument("file")
parser.add_argument("bits", type=int)
args = parser.parse_args()

data = sp800_90b.Data(open(args.file, "rb").read(), args.bits, False)
binary = bool(data.is_binary)
cases = []


def case(desc, **values):
    cases.append({"testCaseDesc": desc, **{k: v for k, v in values.items() if v is not None}})


tuple_lit = data.h_t_tuple_and_lrs()
if binary:
    # Binary data: every estimator on the literal set, no bitstring.
    case("Most Common Value", hOriginal=data.h_most_common())
    case("Collision Test (for bit strings only)", hOriginal=data.h_collision())
    case("Markov Test (for bit strings only)", hOriginal=data.h_markov())
    case("Compression Test (for bit strings only)", hOriginal=data.h_compression())
    case("T-Tuple Test", tTupleRes=tuple_lit[0])
    case("LRS Test", lrsRes=tuple_lit[1])
    case("Multi Most Common in Window Test", hOriginal=data.h_multi_most_common())
    case("Lag Prediction Test", hOriginal=data.h_lag_prediction())
    case("Multi Markov Model with Counting Test (MultiMMC)", hOriginal=data.h_multi_markov())
    case("LZ78Y Test", hOriginal=data.h_lz78y())
    h_original = min(args.bits, *(v for c in cases for k, v in c.items() if k != "testCaseDesc"))
    case("Overall", dataWordSize=float(args.bits), hAssessed=h_original, hOriginal=h_original)
else:
    tuple_bit = data.h_bitstring_t_tuple_and_lrs()
    case("Most Common Value", hOriginal=data.h_most_common(), hBitstring=data.h_bitstring_most_common())
    case("Collision Test (for bit strings only)", hBitstring=data.h_bitstring_collision())
    case("Markov Test (for bit strings only)", hBitstring=data.h_bitstring_markov())
    case("Compression Test (for bit strings only)", hBitstring=data.h_bitstring_compression())
    case("T-Tuple Test", tTupleRes=tuple_lit[0], binTTupleRes=tuple_bit[0])
    case("LRS Test", lrsRes=tuple_lit[1], binLrsRes=tuple_bit[1])
    case("Multi Most Common in Window Test", hOriginal=data.h_multi_most_common(),
         hBitstring=data.h_bitstring_multi_most_common())
    case("Lag Prediction Test", hOriginal=data.h_lag_prediction(), hBitstring=data.h_bitstring_lag_prediction())
    case("Multi Markov Model with Counting Test (MultiMMC)", hOriginal=data.h_multi_markov(),
         hBitstring=data.h_bitstring_multi_markov())
    case("LZ78Y Test", hOriginal=data.h_lz78y(), hBitstring=data.h_bitstring_lz78y())
    h_original = min([args.bits] + [v for c in cases for k, v in c.items() if k in ("hOriginal", "tTupleRes", "lrsRes")])
    h_bitstring = min([1.0] + [v for c in cases for k, v in c.items() if k in ("hBitstring", "binTTupleRes", "binLrsRes")])
    case("Overall", dataWordSize=float(args.bits), hAssessed=min(h_original, args.bits * h_bitstring),
         hOriginal=h_original, hBitstring=h_bitstring)

json.dump({"IID": False, "errorLevel": 0, "filename": args.file, "testCases": cases,
           "toolVersion": "sp800-90b 0.1.1 (PyPI)"}, open(args.out, "w"), indent=3)
if not args.q:
    print(f"H_original: {h_original}\nAssessed min-entropy: {cases[-1]['hAssessed']}")
sys.exit(0)
