;; The fused sma-cross kernel of kernel.ts (smaCrossSummary) in WebAssembly. Every accumulator is
;; updated by the same operations in the same bar order as the JS loop, so the statistics are
;; bit-identical (asserted by test/unit/backtest/kernel-wasm.test.ts), with one difference of form:
;; the deepest drawdown is tracked as min(equity / running peak) per bar rather than trough / peak
;; per closed episode. Both give the same number (IEEE division is monotonic, and each episode's
;; trough is one of its bars), and `trough` is reported equal to `peak`.
;; Assembled by bin/build-kernel-wasm.ts into kernel-wasm-bytes.ts; kernel-wasm.ts loads it.
;;
;; Shape: one loop per state. While flat only the rolling sums move; while a position is held each
;; bar also adds its return to the statistics; a change of position leaves the loop for the rare
;; code that books the trade. The held loop is one pass, so the CPU overlaps the rolling sums'
;; dependency chain (two adds per bar) with the statistics' work. To keep every accumulator in a
;; register (V8 spilled them to the stack otherwise, a store and a load on each bar's chain), the
;; statistics that change together share a 128-bit register, lane by lane, the same IEEE
;; operations as the scalar code:
;;   eq    = (ep, equity)       both times (1 + x)
;;   sq    = (sumSq, down)      plus q * q, where q = (x, (x - |x|) * 0.5) is computed as
;;                              ((x, x) - (x, x) & lowQ) * halfQ: lowQ keeps lane 1's magnitude
;;                              bits (|x|) and zeroes lane 0 (x - +0 = x, -0 included)
;;   peakV = running peak       lane 1: pmax(peak, equity) = equity > peak ? equity : peak
;;   minV  = deepest ratio      lane 1: pmin(minRatio, equity / peak)
;; Lane 0 of peakV and minV follows ep instead of equity and is never read. (pmin(x, 0) for the
;; downside would be one instruction fewer but gives 0 where the JS loop gives NaN, at x = +inf.)
;;
;; Memory: the close series as f64 at byte offset `base`; the 14 statistics are written as f64 at
;; `out` in the order of OUT_FIELDS in kernel-wasm.ts. 1 / fast and 1 / slow are passed in
;; (computed inside, V8 re-evaluated both divisions on every bar).
(module
  (memory (export "memory") 1)
  (func (export "smaCross")
    (param $base i32) (param $n i32) (param $fast i32) (param $slow i32)
    (param $cost f64) (param $short i32) (param $out i32) (param $invF f64) (param $invS f64)
    (local $t i32) (local $pc i32) (local $pf i32) (local $ps i32) (local $pend i32)
    (local $pi i32) (local $prevI i32) (local $to i32)
    (local $trades i32) (local $exposed i32) (local $entryT i32) (local $wins i32) (local $losses i32)
    (local $c f64) (local $c1 f64) (local $sf f64) (local $ss f64) (local $mf f64) (local $ms f64)
    (local $p f64) (local $prev f64) (local $x f64) (local $r f64) (local $a f64) (local $k f64)
    (local $share f64) (local $g f64) (local $sum f64) (local $absDw f64) (local $ep f64)
    (local $winSum f64) (local $lossSum f64)
    (local $eq v128) (local $sq v128) (local $peakV v128) (local $minV v128) (local $q v128) (local $lowQ v128) (local $halfQ v128)
    ;; Warm-up: the rolling sums through bar slow - 1 (the first decided bar).
    (block $wdone
      (loop $warm
        (br_if $wdone (i32.ge_s (local.get $t) (local.get $slow)))
        (local.set $c (f64.load (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 3)))))
        (local.set $sf (f64.add (local.get $sf) (local.get $c)))
        (local.set $ss (f64.add (local.get $ss) (local.get $c)))
        (if (i32.ge_s (local.get $t) (local.get $fast))
          (then
            (local.set $sf
              (f64.sub (local.get $sf)
                (f64.load (i32.add (local.get $base)
                  (i32.shl (i32.sub (local.get $t) (local.get $fast)) (i32.const 3))))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $warm)))
    (local.set $eq (f64x2.splat (f64.const 1)))
    (local.set $peakV (f64x2.splat (f64.const 1)))
    (local.set $minV (f64x2.splat (f64.const 1)))
    (local.set $lowQ (v128.const i64x2 0 0x7fffffffffffffff))
    (local.set $halfQ (v128.const f64x2 1 0.5))
    ;; pc: bar t; the sums already include bar t. pf, ps: the bars leaving the windows at t + 1.
    (local.set $pc (i32.add (local.get $base) (i32.shl (i32.sub (local.get $slow) (i32.const 1)) (i32.const 3))))
    (local.set $pf (i32.sub (i32.add (local.get $pc) (i32.const 8)) (i32.shl (local.get $fast) (i32.const 3))))
    (local.set $ps (i32.sub (i32.add (local.get $pc) (i32.const 8)) (i32.shl (local.get $slow) (i32.const 3))))
    (local.set $pend (i32.add (local.get $base) (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 3))))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $pc) (local.get $pend)))
        (if (local.get $prevI)
          (then
            ;; In a position: until it changes, each bar's return into the statistics.
            (block $changed
              (loop $held
                (local.set $mf (f64.mul (local.get $sf) (local.get $invF)))
                (local.set $ms (f64.mul (local.get $ss) (local.get $invS)))
                ;; Held while prev * (mf - ms) > 0: one comparison where the position takes two. Exact:
                ;; x - y is 0 only when x = y (gradual underflow) and NaN when either is NaN or both
                ;; are the same infinity, which the comparisons of the position treat alike.
                (br_if $changed
                  (i32.eqz
                    (f64.gt (f64.mul (local.get $prev) (f64.sub (local.get $mf) (local.get $ms))) (f64.const 0))))
                (local.set $c1 (f64.load offset=8 (local.get $pc)))
                (local.set $x
                  (f64.mul (local.get $prev)
                    (f64.sub (f64.div (local.get $c1) (f64.load (local.get $pc))) (f64.const 1))))
                (local.set $eq (f64x2.mul (local.get $eq) (f64x2.splat (f64.add (f64.const 1) (local.get $x)))))
                (local.set $sum (f64.add (local.get $sum) (local.get $x)))
                (local.set $q (f64x2.splat (local.get $x)))
                (local.set $q
                  (f64x2.mul (f64x2.sub (local.get $q) (v128.and (local.get $q) (local.get $lowQ)))
                    (local.get $halfQ)))
                (local.set $sq (f64x2.add (local.get $sq) (f64x2.mul (local.get $q) (local.get $q))))
                (local.set $peakV (f64x2.pmax (local.get $peakV) (local.get $eq)))
                (local.set $minV (f64x2.pmin (local.get $minV) (f64x2.div (local.get $eq) (local.get $peakV))))
                (local.set $sf (f64.add (local.get $sf) (local.get $c1)))
                (local.set $sf (f64.sub (local.get $sf) (f64.load (local.get $pf))))
                (local.set $ss (f64.add (local.get $ss) (local.get $c1)))
                (local.set $ss (f64.sub (local.get $ss) (f64.load (local.get $ps))))
                (local.set $pc (i32.add (local.get $pc) (i32.const 8)))
                (local.set $pf (i32.add (local.get $pf) (i32.const 8)))
                (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
                (br_if $held (i32.lt_u (local.get $pc) (local.get $pend)))
                (br $done))))
          (else
            ;; Flat: only the rolling sums move.
            (block $changed
              (loop $flat
                (local.set $mf (f64.mul (local.get $sf) (local.get $invF)))
                (local.set $ms (f64.mul (local.get $ss) (local.get $invS)))
                (br_if $changed
                  (i32.sub (f64.gt (local.get $mf) (local.get $ms))
                    (i32.and (f64.lt (local.get $mf) (local.get $ms)) (local.get $short))))
                (local.set $c1 (f64.load offset=8 (local.get $pc)))
                (local.set $sf (f64.add (local.get $sf) (local.get $c1)))
                (local.set $sf (f64.sub (local.get $sf) (f64.load (local.get $pf))))
                (local.set $ss (f64.add (local.get $ss) (local.get $c1)))
                (local.set $ss (f64.sub (local.get $ss) (f64.load (local.get $ps))))
                (local.set $pc (i32.add (local.get $pc) (i32.const 8)))
                (local.set $pf (i32.add (local.get $pf) (i32.const 8)))
                (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
                (br_if $flat (i32.lt_u (local.get $pc) (local.get $pend)))
                (br $done)))))
        ;; The position changes at bar `to` (mf, ms are its SMAs).
        (local.set $pi
          (i32.sub (f64.gt (local.get $mf) (local.get $ms))
            (i32.and (f64.lt (local.get $mf) (local.get $ms)) (local.get $short))))
        (local.set $to (i32.shr_u (i32.sub (local.get $pc) (local.get $base)) (i32.const 3)))
        (local.set $p (f64.convert_i32_s (local.get $pi)))
        (local.set $c1 (f64.load offset=8 (local.get $pc)))
        (local.set $r (f64.sub (f64.div (local.get $c1) (f64.load (local.get $pc))) (f64.const 1)))
        (local.set $a (f64.abs (f64.sub (local.get $p) (local.get $prev))))
        (local.set $k (f64.mul (local.get $a) (local.get $cost)))
        (local.set $trades (i32.add (local.get $trades) (i32.const 1)))
        (local.set $absDw (f64.add (local.get $absDw) (local.get $a)))
        (local.set $x (f64.sub (f64.mul (local.get $p) (local.get $r)) (local.get $k)))
        (if (local.get $prevI)
          (then
            (local.set $share
              (select (local.get $k) (f64.mul (local.get $k) (f64.const 0.5)) (i32.eqz (local.get $pi))))
            (local.set $g
              (f64.sub (f64.mul (f64x2.extract_lane 0 (local.get $eq)) (f64.sub (f64.const 1) (local.get $share))) (f64.const 1)))
            (if (f64.gt (local.get $g) (f64.const 0))
              (then
                (local.set $wins (i32.add (local.get $wins) (i32.const 1)))
                (local.set $winSum (f64.add (local.get $winSum) (local.get $g))))
              (else
                (if (f64.lt (local.get $g) (f64.const 0))
                  (then
                    (local.set $losses (i32.add (local.get $losses) (i32.const 1)))
                    (local.set $lossSum (f64.add (local.get $lossSum) (local.get $g)))))))
            (local.set $exposed (i32.add (local.get $exposed) (i32.sub (local.get $to) (local.get $entryT))))
            (local.set $ep
              (select (f64.const 1)
                (f64.add (f64.const 1)
                  (f64.sub (f64.mul (local.get $p) (local.get $r)) (local.get $share)))
                (i32.eqz (local.get $pi)))))
          (else
            (local.set $ep
              (f64.add (f64.const 1) (f64.sub (f64.mul (local.get $p) (local.get $r)) (local.get $k))))))
        (if (local.get $pi) (then (local.set $entryT (local.get $to))))
        (local.set $prev (local.get $p))
        (local.set $prevI (local.get $pi))
        (local.set $sum (f64.add (local.get $sum) (local.get $x)))
        (local.set $q (f64x2.splat (local.get $x)))
        (local.set $q
          (f64x2.mul (f64x2.sub (local.get $q) (v128.and (local.get $q) (local.get $lowQ)))
            (local.get $halfQ)))
        (local.set $sq (f64x2.add (local.get $sq) (f64x2.mul (local.get $q) (local.get $q))))
        (local.set $eq
          (f64x2.replace_lane 0
            (f64x2.mul (local.get $eq) (f64x2.splat (f64.add (f64.const 1) (local.get $x))))
            (local.get $ep)))
        (local.set $peakV (f64x2.pmax (local.get $peakV) (local.get $eq)))
        (local.set $minV (f64x2.pmin (local.get $minV) (f64x2.div (local.get $eq) (local.get $peakV))))
        (local.set $sf (f64.add (local.get $sf) (local.get $c1)))
        (local.set $sf (f64.sub (local.get $sf) (f64.load (local.get $pf))))
        (local.set $ss (f64.add (local.get $ss) (local.get $c1)))
        (local.set $ss (f64.sub (local.get $ss) (f64.load (local.get $ps))))
        (local.set $pc (i32.add (local.get $pc) (i32.const 8)))
        (local.set $pf (i32.add (local.get $pf) (i32.const 8)))
        (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
        (br $outer)))
    (if (local.get $prevI)
      (then
        (local.set $exposed
          (i32.add (local.get $exposed)
            (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $entryT))))))
    (f64.store offset=0 (local.get $out) (local.get $sum))
    (f64.store offset=8 (local.get $out) (f64x2.extract_lane 0 (local.get $sq)))
    (f64.store offset=16 (local.get $out) (f64x2.extract_lane 1 (local.get $sq)))
    (f64.store offset=24 (local.get $out) (f64x2.extract_lane 1 (local.get $eq)))
    (f64.store offset=32 (local.get $out) (f64x2.extract_lane 1 (local.get $peakV)))
    (f64.store offset=40 (local.get $out) (f64x2.extract_lane 1 (local.get $peakV)))
    (f64.store offset=48 (local.get $out) (f64x2.extract_lane 1 (local.get $minV)))
    (f64.store offset=56 (local.get $out) (f64.convert_i32_s (local.get $trades)))
    (f64.store offset=64 (local.get $out) (local.get $absDw))
    (f64.store offset=72 (local.get $out) (f64.convert_i32_s (local.get $exposed)))
    (f64.store offset=80 (local.get $out) (f64.convert_i32_s (local.get $wins)))
    (f64.store offset=88 (local.get $out) (f64.convert_i32_s (local.get $losses)))
    (f64.store offset=96 (local.get $out) (local.get $winSum))
    (f64.store offset=104 (local.get $out) (local.get $lossSum))))
