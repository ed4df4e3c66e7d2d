"""Statistics of a request trace, computed independently of capsim (pandas
and NumPy) for tests/calibrate_test.cpp: the definitions of
sim/include/capsim/io/trace.hpp, one `name value` line each.

Usage: /usr/bin/python3 trace_stats.py TRACE.csv WINDOW_S INPUT_TPS OUTPUT_TPS
"""
import sys

import numpy as np
import pandas as pd

path, window, input_tps, output_tps = sys.argv[1], *map(float, sys.argv[2:5])
trace = pd.read_csv(path)
times = pd.to_datetime(trace["TIMESTAMP"], format="%Y-%m-%d %H:%M:%S.%f")
order = np.argsort(times.to_numpy(), kind="stable")
trace = trace.iloc[order].reset_index(drop=True)
times = times.iloc[order].reset_index(drop=True)
t = (times - times.iloc[0]).dt.total_seconds().to_numpy()

n = len(t)
duration = t[-1] - t[0]
gaps = np.diff(t)
service = (trace["ContextTokens"].to_numpy() / input_tps
           + trace["GeneratedTokens"].to_numpy() / output_tps)
load = service.sum() / duration
# Windows [t_i, t_i + w) that end inside the trace; the sum of the service
# times of the requests in each, from cumulative sums.
cumulative = np.concatenate([[0.0], np.cumsum(service)])
starts = np.flatnonzero(t + window <= t[-1])
ends = np.searchsorted(t, t[starts] + window, side="left")
sums = cumulative[ends] - cumulative[starts]
busiest = int(np.argmax(sums))

values = {
    "requests": n,
    "duration_s": duration,
    "rate_per_s": n / duration,
    "input_tokens": trace["ContextTokens"].mean(),
    "output_tokens": trace["GeneratedTokens"].mean(),
    "interarrival_cv": gaps.std(ddof=1) / gaps.mean(),
    "service_s": service.mean(),
    "service_cv": service.std(ddof=1) / service.mean(),
    "load_h100e": load,
    "peak_to_mean": sums[busiest] / window / load,
    "busiest_start_s": t[starts[busiest]],
}
for name, value in values.items():
    print(name, repr(float(value)))
