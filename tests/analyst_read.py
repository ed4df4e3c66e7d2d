#!/usr/bin/env python3
"""The outputs open as they are in the tools analysts use.

Runs a small baseline and a small sweep with capsim, then, with Debian's
xarray (h5netcdf engine) and pandas:
- every group of the run and sweep files that holds data opens with named
  dimensions, and selecting by region, SKU and workload name gives the
  values h5py reads at the matching index;
- step coordinates decode to the step starts;
- the key-figure CSVs of the run and the sweep read with pandas and agree
  with the HDF5 files;
- the fan chart of docs/output.md runs as written and draws a picture.
Exits non-zero with a message on the first difference.
"""
import argparse
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import xarray as xr


def fail(message):
    print("analyst_read: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def data_groups(f):
    """Every group that holds a dataset, by path."""
    groups = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and any(isinstance(v, h5py.Dataset) for v in obj.values()):
            groups.append(name)

    f.visititems(visit)
    return groups


def check_groups(path):
    """Opens every data group with xarray and compares each variable with h5py."""
    with h5py.File(path, "r") as f:
        groups = data_groups(f)
        check(len(groups) > 10, f"{path}: only {len(groups)} groups hold data")
        for name in groups:
            ds = xr.open_dataset(path, group=name, engine="h5netcdf", decode_times=False)
            for var, da in ds.data_vars.items():
                raw = f[name][var]
                check(da.shape == raw.shape, f"{path}:{name}/{var}: shape {da.shape} != {raw.shape}")
                check(not any(d.startswith("phony_dim") for d in da.dims),
                      f"{path}:{name}/{var}: unnamed dimension in {da.dims}")
                if "dims" in raw.attrs:
                    want = tuple(d for d in raw.attrs["dims"].split(",") if d)
                    check(da.dims == want, f"{path}:{name}/{var}: dims {da.dims} != {want}")
                # Select the last label of every labelled dimension by name.
                index = {}
                for d in da.dims:
                    if d in ds.coords and ds.coords[d].dtype == object and da.sizes[d] > 0:
                        index[d] = ds.coords[d].values[-1]
                if index and raw.dtype.kind == "f":
                    got = da.sel(index).values
                    slices = tuple(-1 if d in index else slice(None) for d in da.dims)
                    want = raw[slices]
                    check(np.array_equal(got, want, equal_nan=True),
                          f"{path}:{name}/{var}: .sel({index}) differs from h5py")
            ds.close()
    return len(groups)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--capsim", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    args.capsim = os.path.abspath(args.capsim)
    os.makedirs(args.work_dir, exist_ok=True)
    os.chdir(args.work_dir)
    baseline = os.path.join(args.source_dir, "scenarios", "msft-japan-2024.yaml")

    def capsim(*argv):
        r = subprocess.run([args.capsim, *argv, "--threads", "2", "--quiet"],
                           capture_output=True, text=True, timeout=600)
        check(r.returncode == 0, f"capsim {' '.join(argv)}: exit {r.returncode}: {r.stderr}")

    capsim("run", baseline, "--paths", "40", "--save-paths", "-o", "run.h5", "--csv", "run.csv")
    capsim("sweep", baseline, "--paths", "20", "--vary", "finance.usdjpy=140,160",
           "--vary", "classes.inference.growth.rate=0.5,0.9", "-o", "sweep.h5", "--csv", "sweep.csv")

    n = check_groups("run.h5") + check_groups("sweep.h5")

    # Named selection and decoded times on the run file.
    demand = xr.open_dataset("run.h5", group="series/demand_h100e_gpuh", engine="h5netcdf")
    with h5py.File("run.h5", "r") as f:
        starts = np.array(f["labels/step_start"].asstr()[:], dtype="datetime64[m]")
        workloads = list(f["labels/workload"].asstr()[:])
        regions = list(f["labels/region"].asstr()[:])
        p95 = f["series/demand_h100e_gpuh/p95"][:]
        unserved = f["key_figures/unserved_fraction/mean"][:]
        spend = f["key_figures/total_spend_usd/mean"][()]
    check(np.array_equal(demand.step.values.astype("datetime64[m]"), starts),
          "series step coordinates do not decode to labels/step_start")
    tokyo = demand.p95.sel(workload="inference", region="tokyo").values
    check(np.array_equal(tokyo, p95[:, workloads.index("inference"), regions.index("tokyo")]),
          "demand p95 of inference in tokyo differs")
    kf = xr.open_dataset("run.h5", group="key_figures/unserved_fraction", engine="h5netcdf")
    check(float(kf["mean"].sel(workload="training")) == unserved[workloads.index("training")],
          "unserved_fraction of training differs")
    total = xr.open_dataset("run.h5", group="key_figures/total_spend_usd", engine="h5netcdf")
    check(total["mean"].shape == () and float(total["mean"]) == spend, "total_spend_usd differs")
    per_path = xr.open_dataset("run.h5", group="paths/key_figures", engine="h5netcdf")
    check(per_path.sizes["path"] == 40, "paths/key_figures has no path dimension of 40")

    # The CSVs with pandas.
    csv = pd.read_csv("run.csv", index_col="key_figure", float_precision="round_trip")
    check(csv.loc["total_spend_usd", "mean"] == spend, "run.csv total_spend_usd differs from the file")
    check(csv.loc["unserved_fraction[training]", "mean"] == unserved[workloads.index("training")],
          "run.csv unserved_fraction[training] differs from the file")
    table = pd.read_csv("sweep.csv", index_col="point", float_precision="round_trip")
    check(len(table) == 4, f"sweep.csv has {len(table)} rows, expected 4")
    with h5py.File("sweep.h5", "r") as f:
        sweep_spend = f["key_figures/total_spend_usd/mean"][:]
    check(np.array_equal(table["total_spend_usd_mean"].to_numpy(), sweep_spend),
          "sweep.csv total_spend_usd_mean differs from the file")
    points = xr.open_dataset("sweep.h5", group="points", engine="h5netcdf")
    check(list(points.key.values) == ["finance.usdjpy", "classes.inference.growth.rate"],
          "sweep points have the wrong key coordinate")
    check(float(points.numeric.sel(point=3, key="finance.usdjpy")) == 160.0,
          "sweep point 3 does not have usdjpy 160")

    # The fan chart of docs/output.md, as written.
    text = open(os.path.join(args.source_dir, "docs", "output.md"), encoding="utf-8").read()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "import xarray" in b]
    check(len(blocks) == 1, f"docs/output.md has {len(blocks)} xarray blocks, expected 1")
    lines = [line for line in blocks[0].splitlines() if line.strip()]
    check(len(lines) <= 6, f"the fan chart takes {len(lines)} lines, more than 6")
    import matplotlib
    matplotlib.use("Agg")
    scope = {}
    exec(blocks[0], scope)
    scope["ax"].figure.savefig("tokyo.png")
    check(os.path.getsize("tokyo.png") > 10000, "the fan chart is empty")
    check(len(scope["ax"].lines) == 2 and len(scope["ax"].collections) == 1,
          "the fan chart lacks the median, the band or the capacity")
    print(f"analyst_read: {n} groups open in xarray; CSVs agree; fan chart drawn")


if __name__ == "__main__":
    main()
