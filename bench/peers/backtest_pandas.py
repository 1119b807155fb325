"""Peer of `quant backtest --strategy sma-cross --param fast=F --param slow=S --json` in pandas.

Usage: python3 backtest_pandas.py BARS.csv FAST SLOW. Prints one JSON object with the metrics of
src/backtest/metrics.ts: the position decided at the close of bar t (fast SMA above slow SMA: long,
else flat) is held from t to t+1; 252 periods a year, risk-free 0; Sharpe with the sample stdev;
Sortino with the RMS of min(r, 0) over all periods; max drawdown with the start as a peak; trades
are position changes; round trips are closed episodes (the one still open at the end is not).
"""
import json
import sys

import numpy as np
import pandas as pd

bars, fast, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
df = pd.read_csv(bars, parse_dates=["date"]).sort_values("date")
close = df["close"].astype(float).reset_index(drop=True)
pos = (close.rolling(fast).mean() > close.rolling(slow).mean()).astype(float).iloc[:-1]
ret = (close.shift(-1) / close - 1).iloc[:-1]
r = pos * ret
n = len(r)
equity = (1 + r).cumprod()
final = float(equity.iloc[-1])
peak = np.maximum(equity.cummax(), 1.0)
mdd = float((1 - equity / peak).max())
mean, sd = r.mean(), r.std(ddof=1)
down = float(np.sqrt((np.minimum(r, 0) ** 2).mean()))
cagr = final ** (252 / n) - 1
change = pos.diff().fillna(pos.iloc[0]).abs()
episode = (change > 0).cumsum().where(pos != 0)
growth = (1 + r).groupby(episode).prod() - 1
closed = growth.iloc[:-1] if pos.iloc[-1] != 0 else growth
wins, losses = closed[closed > 0], closed[closed < 0]
print(json.dumps({
    "bars": len(close), "periods": n, "totalReturn": final - 1, "cagr": cagr,
    "sharpe": mean / sd * np.sqrt(252), "sortino": mean / down * np.sqrt(252),
    "maxDrawdown": mdd, "calmar": cagr / mdd, "volatility": sd * np.sqrt(252),
    "trades": int((change > 0).sum()), "turnover": float(change.sum() * 252 / n),
    "exposure": float((pos != 0).mean()), "hitRate": len(wins) / max(1, len(wins) + len(losses)),
    "avgWin": float(wins.mean()), "avgLoss": float(losses.mean()),
}))
