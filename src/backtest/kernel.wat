;; The fused sma-cross kernel of kernel.ts (smaCrossSummary) in WebAssembly. Every accumulator is
;; updated by the same operations in the same bar order as the JS loop, so the statistics are
;; bit-identical (asserted by test/unit/backtest/kernel-wasm.test.ts), with one difference of form:
;; the deepest drawdown is tracked as min(equity / running peak) per bar rather than trough / peak
;; per closed episode. Both give the same number (IEEE division is monotonic, and each episode's
;; trough is one of its bars), and `trough` is reported equal to `peak`.
;; Assembled by bin/build-kernel-wasm.ts into kernel-wasm-bytes.ts; kernel-wasm.ts loads it.
;;
;; Why two phases per block of bars: in one fused loop V8 ran out of registers and kept the hot
;; accumulators (sum, sumSq, down, ep) in stack slots, a store and a load on every bar. Phase 1
;; (rolling sums, positions) writes the bars where the position changes to `buf`; phase 2 walks
;; the runs between them with only the return statistics live, then applies each change.
;;
;; Memory: the close series as f64 at byte offset `base`; `buf` holds 8 bytes per bar of a block
;; (BLOCK + 1 entries); the 14 statistics are written as f64 at `out` in the order of OUT_FIELDS in
;; kernel-wasm.ts. 1 / fast and 1 / slow are passed in (computed inside, V8 re-evaluated both
;; divisions on every bar).
(module
  (memory (export "memory") 1)
  (global $BLOCK i32 (i32.const 4096))
  (func (export "smaCross")
    (param $base i32) (param $n i32) (param $fast i32) (param $slow i32)
    (param $cost f64) (param $short i32) (param $out i32) (param $invF f64) (param $invS f64)
    (param $buf i32)
    (local $t i32) (local $u i32) (local $blockEnd i32) (local $m i32) (local $j i32)
    (local $from i32) (local $to i32) (local $pi i32) (local $pPrevI i32) (local $prevI i32)
    (local $pc i32) (local $pf i32) (local $ps i32) (local $pv i32) (local $pend i32) (local $last i32)
    (local $trades i32) (local $exposed i32) (local $entryT i32) (local $wins i32) (local $losses i32)
    (local $c f64) (local $sf f64) (local $ss f64) (local $mf f64) (local $ms f64)
    (local $p f64) (local $prev f64) (local $x f64) (local $r f64) (local $a f64) (local $k f64)
    (local $d f64) (local $e f64) (local $ratio f64) (local $share f64) (local $g f64)
    (local $sum f64) (local $sumSq f64) (local $down f64) (local $equity f64) (local $peak f64)
    (local $minRatio f64) (local $absDw f64) (local $ep f64) (local $winSum f64) (local $lossSum f64)
    ;; Warm-up: bars before slow - 1 only fill the rolling sums.
    (block $wdone
      (loop $warm
        (br_if $wdone (i32.ge_s (local.get $t) (i32.sub (local.get $slow) (i32.const 1))))
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
    (local.set $equity (f64.const 1))
    (local.set $peak (f64.const 1))
    (local.set $minRatio (f64.const 1))
    (local.set $ep (f64.const 1))
    (local.set $last (i32.sub (local.get $n) (i32.const 1)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_s (local.get $t) (local.get $last)))
        (local.set $blockEnd (i32.add (local.get $t) (global.get $BLOCK)))
        (if (i32.gt_s (local.get $blockEnd) (local.get $last))
          (then (local.set $blockEnd (local.get $last))))
        ;; Phase 1: positions of bars t..blockEnd-1; each change as (bar, position) in buf.
        (local.set $m (i32.const 0))
        (local.set $u (local.get $t))
        (local.set $pc (i32.add (local.get $base) (i32.shl (local.get $u) (i32.const 3))))
        (local.set $pf (i32.sub (local.get $pc) (i32.shl (local.get $fast) (i32.const 3))))
        (local.set $ps (i32.sub (local.get $pc) (i32.shl (local.get $slow) (i32.const 3))))
        (block $p1done
          (loop $p1
            (br_if $p1done (i32.ge_s (local.get $u) (local.get $blockEnd)))
            (local.set $c (f64.load (local.get $pc)))
            ;; Same operation order as smaCrossPositions and rollingMean: bit-identical SMAs.
            (local.set $sf (f64.add (local.get $sf) (local.get $c)))
            (local.set $sf (f64.sub (local.get $sf) (f64.load (local.get $pf))))
            (local.set $ss (f64.add (local.get $ss) (local.get $c)))
            (if (i32.ge_s (local.get $u) (local.get $slow))
              (then (local.set $ss (f64.sub (local.get $ss) (f64.load (local.get $ps))))))
            (local.set $mf (f64.mul (local.get $sf) (local.get $invF)))
            (local.set $ms (f64.mul (local.get $ss) (local.get $invS)))
            ;; 1 above, -1 below when short (else 0), 0 on a tie.
            (local.set $pi
              (i32.sub (f64.gt (local.get $mf) (local.get $ms))
                (i32.and (f64.lt (local.get $mf) (local.get $ms)) (local.get $short))))
            (if (i32.ne (local.get $pi) (local.get $pPrevI))
              (then
                (i32.store (i32.add (local.get $buf) (i32.shl (local.get $m) (i32.const 3))) (local.get $u))
                (i32.store offset=4 (i32.add (local.get $buf) (i32.shl (local.get $m) (i32.const 3)))
                  (local.get $pi))
                (local.set $m (i32.add (local.get $m) (i32.const 1)))
                (local.set $pPrevI (local.get $pi))))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 8)))
            (local.set $pf (i32.add (local.get $pf) (i32.const 8)))
            (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
            (br $p1)))
        ;; Phase 2: the run before each change (and the block's last run), then the change.
        (local.set $from (local.get $t))
        (local.set $j (i32.const 0))
        (block $p2done
          (loop $p2
            (local.set $to
              (select
                (i32.load (i32.add (local.get $buf) (i32.shl (local.get $j) (i32.const 3))))
                (local.get $blockEnd)
                (i32.lt_s (local.get $j) (local.get $m))))
            ;; Bars from..to-1 hold the previous position unchanged (nothing to do when flat).
            (if (local.get $prevI)
              (then
                (local.set $pv (i32.add (local.get $base) (i32.shl (local.get $from) (i32.const 3))))
                (local.set $pend (i32.add (local.get $base) (i32.shl (local.get $to) (i32.const 3))))
                (block $rdone
                  (loop $run
                    (br_if $rdone (i32.ge_u (local.get $pv) (local.get $pend)))
                    (local.set $x
                      (f64.mul (local.get $prev)
                        (f64.sub (f64.div (f64.load offset=8 (local.get $pv)) (f64.load (local.get $pv)))
                          (f64.const 1))))
                    (local.set $ep (f64.mul (local.get $ep) (f64.add (f64.const 1) (local.get $x))))
                    (local.set $sum (f64.add (local.get $sum) (local.get $x)))
                    (local.set $sumSq (f64.add (local.get $sumSq) (f64.mul (local.get $x) (local.get $x))))
                    ;; min(x, 0) without a branch: (x - |x|) / 2 is exactly x or 0.
                    (local.set $d (f64.mul (f64.sub (local.get $x) (f64.abs (local.get $x))) (f64.const 0.5)))
                    (local.set $down (f64.add (local.get $down) (f64.mul (local.get $d) (local.get $d))))
                    (local.set $e (f64.mul (local.get $equity) (f64.add (f64.const 1) (local.get $x))))
                    (local.set $equity (local.get $e))
                    ;; Running peak and deepest equity / peak, through integer selects (no branch).
                    (local.set $peak
                      (f64.reinterpret_i64
                        (select (i64.reinterpret_f64 (local.get $e)) (i64.reinterpret_f64 (local.get $peak))
                          (f64.gt (local.get $e) (local.get $peak)))))
                    (local.set $ratio (f64.div (local.get $e) (local.get $peak)))
                    (local.set $minRatio
                      (f64.reinterpret_i64
                        (select (i64.reinterpret_f64 (local.get $ratio))
                          (i64.reinterpret_f64 (local.get $minRatio))
                          (f64.lt (local.get $ratio) (local.get $minRatio)))))
                    (local.set $pv (i32.add (local.get $pv) (i32.const 8)))
                    (br $run)))))
            (br_if $p2done (i32.ge_s (local.get $j) (local.get $m)))
            ;; The change at bar `to` to position pi.
            (local.set $pi
              (i32.load offset=4 (i32.add (local.get $buf) (i32.shl (local.get $j) (i32.const 3)))))
            (local.set $p (f64.convert_i32_s (local.get $pi)))
            (local.set $pv (i32.add (local.get $base) (i32.shl (local.get $to) (i32.const 3))))
            (local.set $r
              (f64.sub (f64.div (f64.load offset=8 (local.get $pv)) (f64.load (local.get $pv))) (f64.const 1)))
            (local.set $a (f64.abs (f64.sub (local.get $p) (local.get $prev))))
            (local.set $k (f64.mul (local.get $a) (local.get $cost)))
            (local.set $trades (i32.add (local.get $trades) (i32.const 1)))
            (local.set $absDw (f64.add (local.get $absDw) (local.get $a)))
            (local.set $x (f64.sub (f64.mul (local.get $p) (local.get $r)) (local.get $k)))
            (if (local.get $prevI)
              (then
                ;; Closing (or flipping): the closing share of the cost ends the episode.
                (local.set $share
                  (select (local.get $k) (f64.mul (local.get $k) (f64.const 0.5)) (i32.eqz (local.get $pi))))
                (local.set $g
                  (f64.sub (f64.mul (local.get $ep) (f64.sub (f64.const 1) (local.get $share))) (f64.const 1)))
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
            (local.set $sumSq (f64.add (local.get $sumSq) (f64.mul (local.get $x) (local.get $x))))
            (local.set $d (f64.mul (f64.sub (local.get $x) (f64.abs (local.get $x))) (f64.const 0.5)))
            (local.set $down (f64.add (local.get $down) (f64.mul (local.get $d) (local.get $d))))
            (local.set $e (f64.mul (local.get $equity) (f64.add (f64.const 1) (local.get $x))))
            (local.set $equity (local.get $e))
            (if (f64.gt (local.get $e) (local.get $peak)) (then (local.set $peak (local.get $e))))
            (local.set $ratio (f64.div (local.get $e) (local.get $peak)))
            (if (f64.lt (local.get $ratio) (local.get $minRatio))
              (then (local.set $minRatio (local.get $ratio))))
            (local.set $from (i32.add (local.get $to) (i32.const 1)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $p2)))
        (local.set $t (local.get $blockEnd))
        (br $block)))
    ;; Exposure is counted per episode: the one still open runs to the last period.
    (if (local.get $prevI)
      (then
        (local.set $exposed
          (i32.add (local.get $exposed) (i32.sub (local.get $last) (local.get $entryT))))))
    (f64.store offset=0 (local.get $out) (local.get $sum))
    (f64.store offset=8 (local.get $out) (local.get $sumSq))
    (f64.store offset=16 (local.get $out) (local.get $down))
    (f64.store offset=24 (local.get $out) (local.get $equity))
    (f64.store offset=32 (local.get $out) (local.get $peak))
    (f64.store offset=40 (local.get $out) (local.get $peak))
    (f64.store offset=48 (local.get $out) (local.get $minRatio))
    (f64.store offset=56 (local.get $out) (f64.convert_i32_s (local.get $trades)))
    (f64.store offset=64 (local.get $out) (local.get $absDw))
    (f64.store offset=72 (local.get $out) (f64.convert_i32_s (local.get $exposed)))
    (f64.store offset=80 (local.get $out) (f64.convert_i32_s (local.get $wins)))
    (f64.store offset=88 (local.get $out) (f64.convert_i32_s (local.get $losses)))
    (f64.store offset=96 (local.get $out) (local.get $winSum))
    (f64.store offset=104 (local.get $out) (local.get $lossSum))))
