;; SIMD loops that run on the tfjs wasm backend's own heap (its memory is imported), for the
;; kernels in .. (bnReluPool.ts, the implicit GEMMs, batchMatMul.ts). Compiled to simdModule.ts by
;; scripts/build-simd-kernels.js, twice: as written, where the GEMM loops accumulate with relaxed
;; SIMD's fused f32x4.relaxed_madd (one instruction where there were two), and with each
;; (f32x4.relaxed_madd a b c) spelled (f32x4.add c (f32x4.mul a b)) for runtimes without relaxed
;; SIMD. index.ts picks one at start.
;;
;; The GEMM loops are written one step at a time on purpose: V8's optimizing compiler unrolls
;; them itself and keeps the 4 x 8 tile in registers, while a hand-unrolled body (4 channels per
;; iteration, measured) had its loads hoisted and its accumulators spilled, at half the speed.
;;
;; Layout: NHWC float32, C % 4 == 0; every pointer is a byte offset into the heap, 4-aligned.
;; A "row" is the C channels of one pixel (C*4 bytes); per-channel vectors are [C] float32.

(module
  (import "env" "memory" (memory 1))

  ;; s1[c] += p1[c], s2[c] += p2[c] (s in float64, p in float32); p1, p2 zeroed.
  (func $flush (param $p1 i32) (param $p2 i32) (param $s1 i32) (param $s2 i32) (param $C i32)
    (local $c i32)
    (local $f i32)
    (local $d i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $f (i32.shl (local.get $c) (i32.const 2)))
        (local.set $d (i32.shl (local.get $c) (i32.const 3)))
        (f64.store (i32.add (local.get $s1) (local.get $d))
          (f64.add (f64.load (i32.add (local.get $s1) (local.get $d)))
                   (f64.promote_f32 (f32.load (i32.add (local.get $p1) (local.get $f))))))
        (f64.store (i32.add (local.get $s2) (local.get $d))
          (f64.add (f64.load (i32.add (local.get $s2) (local.get $d)))
                   (f64.promote_f32 (f32.load (i32.add (local.get $p2) (local.get $f))))))
        (f32.store (i32.add (local.get $p1) (local.get $f)) (f32.const 0))
        (f32.store (i32.add (local.get $p2) (local.get $f)) (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next))))

  ;; Per-channel sums over M rows at x: s1 += sum(x - shift), s2 += sum((x - shift)^2), in
  ;; float32 partials (p1, p2, zero on entry) flushed to the float64 s1, s2 every 16 rows.
  (func (export "moments") (param $x i32) (param $M i32) (param $C i32) (param $shift i32)
        (param $s1 i32) (param $s2 i32) (param $p1 i32) (param $p2 i32)
    (local $rowBytes i32)
    (local $r i32)
    (local $inBlock i32)
    (local $j i32)
    (local $d v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $M)))
        (local.set $j (i32.const 0))
        (loop $ch
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                                   (v128.load (i32.add (local.get $shift) (local.get $j)))))
          (v128.store (i32.add (local.get $p1) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $p1) (local.get $j))) (local.get $d)))
          (v128.store (i32.add (local.get $p2) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $p2) (local.get $j)))
                       (f32x4.mul (local.get $d) (local.get $d))))
          (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $inBlock (i32.add (local.get $inBlock) (i32.const 1)))
        (if (i32.eq (local.get $inBlock) (i32.const 16))
          (then
            (call $flush (local.get $p1) (local.get $p2) (local.get $s1) (local.get $s2) (local.get $C))
            (local.set $inBlock (i32.const 0))))
        (br $row)))
    (call $flush (local.get $p1) (local.get $p2) (local.get $s1) (local.get $s2) (local.get $C)))

  ;; Batch norm, ReLU and 2x2 stride-2 max-pool (floor) in one pass over the windows:
  ;; z = (x - mean) * a + beta per channel; y = max of z over the window where > 0, else 0;
  ;; xmax = the x of that maximum (the first where equal), which the backward sums read.
  (func (export "bnReluPool") (param $x i32) (param $N i32) (param $H i32) (param $W i32) (param $C i32)
        (param $mean i32) (param $a i32) (param $beta i32) (param $y i32) (param $xmax i32)
    (local $rowBytes i32) (local $lineBytes i32) (local $Ho i32) (local $Wo i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $j i32)
    (local $p0 i32) (local $line i32)
    (local $mu v128) (local $av v128) (local $bv v128)
    (local $m v128) (local $xm v128) (local $z v128) (local $gt v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $lineBytes (i32.mul (local.get $W) (local.get $rowBytes)))
    (local.set $Ho (i32.shr_u (local.get $H) (i32.const 1)))
    (local.set $Wo (i32.shr_u (local.get $W) (i32.const 1)))
    (block $nDone
      (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $oy (i32.const 0))
        (block $oyDone
          (loop $oyLoop
            (br_if $oyDone (i32.ge_u (local.get $oy) (local.get $Ho)))
            ;; first input line of this window row
            (local.set $line (i32.add (local.get $x)
              (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (i32.shl (local.get $oy) (i32.const 1)))
                       (local.get $lineBytes))))
            (local.set $ox (i32.const 0))
            (block $oxDone
              (loop $oxLoop
                (br_if $oxDone (i32.ge_u (local.get $ox) (local.get $Wo)))
                (local.set $p0 (i32.add (local.get $line) (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $rowBytes))))
                (local.set $j (i32.const 0))
                (loop $ch
                  (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
                  (local.set $av (v128.load (i32.add (local.get $a) (local.get $j))))
                  (local.set $bv (v128.load (i32.add (local.get $beta) (local.get $j))))
                  ;; positions 0..3: (0, 0), (0, 1), (1, 0), (1, 1)
                  (local.set $x0 (v128.load (i32.add (local.get $p0) (local.get $j))))
                  (local.set $x1 (v128.load (i32.add (i32.add (local.get $p0) (local.get $rowBytes)) (local.get $j))))
                  (local.set $x2 (v128.load (i32.add (i32.add (local.get $p0) (local.get $lineBytes)) (local.get $j))))
                  (local.set $x3 (v128.load (i32.add (i32.add (local.get $p0) (i32.add (local.get $lineBytes) (local.get $rowBytes))) (local.get $j))))
                  (local.set $m (f32x4.add (f32x4.mul (f32x4.sub (local.get $x0) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $xm (local.get $x0))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x1) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $xm (v128.bitselect (local.get $x1) (local.get $xm) (local.get $gt)))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x2) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $xm (v128.bitselect (local.get $x2) (local.get $xm) (local.get $gt)))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x3) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $xm (v128.bitselect (local.get $x3) (local.get $xm) (local.get $gt)))
                  (v128.store (local.get $y) (v128.and (local.get $m) (f32x4.gt (local.get $m) (v128.const f32x4 0 0 0 0))))
                  (v128.store (local.get $xmax) (local.get $xm))
                  (local.set $y (i32.add (local.get $y) (i32.const 16)))
                  (local.set $xmax (i32.add (local.get $xmax) (i32.const 16)))
                  (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop))))

  ;; Backward sums over the M pooled rows: v = xmax, g = dy where (v - mean) * a + beta > 0 (the
  ;; window's maximum as the forward pass computed it: the same ReLU decision), else 0;
  ;; s1 += g, s2 += g * (v - mean), per channel (float32 partials p1, p2, zero on entry, flushed
  ;; into the float64 s1, s2 every 16 rows).
  (func (export "poolGradSums") (param $xmax i32) (param $dy i32) (param $M i32) (param $C i32)
        (param $mean i32) (param $a i32) (param $beta i32)
        (param $s1 i32) (param $s2 i32) (param $p1 i32) (param $p2 i32)
    (local $rowBytes i32) (local $r i32) (local $inBlock i32) (local $j i32)
    (local $mu v128) (local $v v128) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $M)))
        (local.set $j (i32.const 0))
        (loop $ch
          (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
          (local.set $v (v128.load (local.get $xmax)))
          (local.set $g (v128.and (v128.load (local.get $dy))
            (f32x4.gt (f32x4.add (f32x4.mul (f32x4.sub (local.get $v) (local.get $mu)) (v128.load (i32.add (local.get $a) (local.get $j))))
                                 (v128.load (i32.add (local.get $beta) (local.get $j))))
                      (v128.const f32x4 0 0 0 0))))
          (v128.store (i32.add (local.get $p1) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $p1) (local.get $j))) (local.get $g)))
          (v128.store (i32.add (local.get $p2) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $p2) (local.get $j)))
                       (f32x4.mul (local.get $g) (f32x4.sub (local.get $v) (local.get $mu)))))
          (local.set $xmax (i32.add (local.get $xmax) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $inBlock (i32.add (local.get $inBlock) (i32.const 1)))
        (if (i32.eq (local.get $inBlock) (i32.const 16))
          (then
            (call $flush (local.get $p1) (local.get $p2) (local.get $s1) (local.get $s2) (local.get $C))
            (local.set $inBlock (i32.const 0))))
        (br $row)))
    (call $flush (local.get $p1) (local.get $p2) (local.get $s1) (local.get $s2) (local.get $C)))

  ;; dx = (x - mean) * cA + cB over M rows (the pixels no pooling window covers, for odd sizes).
  (func (export "affine") (param $x i32) (param $dx i32) (param $M i32) (param $C i32)
        (param $mean i32) (param $cA i32) (param $cB i32)
    (local $rowBytes i32) (local $r i32) (local $j i32)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $M)))
        (local.set $j (i32.const 0))
        (loop $ch
          (v128.store (i32.add (local.get $dx) (local.get $j))
            (f32x4.add
              (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $j)))
                                    (v128.load (i32.add (local.get $mean) (local.get $j))))
                         (v128.load (i32.add (local.get $cA) (local.get $j))))
              (v128.load (i32.add (local.get $cB) (local.get $j)))))
          (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $dx (i32.add (local.get $dx) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; dx over the pooling windows: (x - mean) * cA + cB everywhere, plus a * dy at the window's
  ;; maximum where it is > 0 (found again from x as bnReluPool found it).
  (func (export "poolGradDx") (param $x i32) (param $dy i32)
        (param $N i32) (param $H i32) (param $W i32) (param $C i32)
        (param $mean i32) (param $a i32) (param $beta i32) (param $cA i32) (param $cB i32) (param $dx i32)
    (local $rowBytes i32) (local $lineBytes i32) (local $Ho i32) (local $Wo i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $j i32)
    (local $off i32) (local $lineOff i32)
    (local $k v128) (local $g v128) (local $mu v128) (local $av v128) (local $bv v128) (local $ca v128) (local $cb v128)
    (local $m v128) (local $z v128) (local $gt v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $lineBytes (i32.mul (local.get $W) (local.get $rowBytes)))
    (local.set $Ho (i32.shr_u (local.get $H) (i32.const 1)))
    (local.set $Wo (i32.shr_u (local.get $W) (i32.const 1)))
    (block $nDone
      (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $oy (i32.const 0))
        (block $oyDone
          (loop $oyLoop
            (br_if $oyDone (i32.ge_u (local.get $oy) (local.get $Ho)))
            (local.set $lineOff
              (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (i32.shl (local.get $oy) (i32.const 1)))
                       (local.get $lineBytes)))
            (local.set $ox (i32.const 0))
            (block $oxDone
              (loop $oxLoop
                (br_if $oxDone (i32.ge_u (local.get $ox) (local.get $Wo)))
                (local.set $j (i32.const 0))
                (loop $ch
                  (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
                  (local.set $av (v128.load (i32.add (local.get $a) (local.get $j))))
                  (local.set $bv (v128.load (i32.add (local.get $beta) (local.get $j))))
                  (local.set $ca (v128.load (i32.add (local.get $cA) (local.get $j))))
                  (local.set $cb (v128.load (i32.add (local.get $cB) (local.get $j))))
                  ;; byte offset of position 0 of this window, channel block j
                  (local.set $off (i32.add (i32.add (local.get $lineOff)
                    (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $rowBytes))) (local.get $j)))
                  (local.set $x0 (v128.load (i32.add (local.get $x) (local.get $off))))
                  (local.set $x1 (v128.load (i32.add (local.get $x) (i32.add (local.get $off) (local.get $rowBytes)))))
                  (local.set $x2 (v128.load (i32.add (local.get $x) (i32.add (local.get $off) (local.get $lineBytes)))))
                  (local.set $x3 (v128.load (i32.add (local.get $x) (i32.add (local.get $off) (i32.add (local.get $lineBytes) (local.get $rowBytes))))))
                  (local.set $m (f32x4.add (f32x4.mul (f32x4.sub (local.get $x0) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $k (v128.const i32x4 0 0 0 0))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x1) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $k) (local.get $gt)))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x2) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 2 2 2 2) (local.get $k) (local.get $gt)))
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (local.get $x3) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 3 3 3 3) (local.get $k) (local.get $gt)))
                  (local.set $k (v128.bitselect (local.get $k) (v128.const i32x4 -1 -1 -1 -1) (f32x4.gt (local.get $m) (v128.const f32x4 0 0 0 0))))
                  (local.set $g (f32x4.mul (v128.load (local.get $dy)) (local.get $av)))
                  (v128.store (i32.add (local.get $dx) (local.get $off))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (local.get $x0) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 0 0 0 0)))))
                  (v128.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $rowBytes)))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (local.get $x1) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 1 1 1 1)))))
                  (v128.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $lineBytes)))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (local.get $x2) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 2 2 2 2)))))
                  (v128.store (i32.add (local.get $dx) (i32.add (local.get $off) (i32.add (local.get $lineBytes) (local.get $rowBytes))))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (local.get $x3) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 3 3 3 3)))))
                  (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
                  (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop))))

  ;; out[i] = 1, -1 or 0 as x[i] > 0, < 0 or neither (0 also for NaN and -0), for n floats: Sign,
  ;; a memory-bound pass (sign.ts); the last n % 4 one at a time.
  (func (export "sign") (param $x i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $s f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $out)
          (f32x4.sub (v128.and (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                     (v128.and (f32x4.lt (local.get $v) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $vec)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $out)
          (f32.sub (f32.convert_i32_u (f32.gt (local.get $s) (f32.const 0)))
                   (f32.convert_i32_u (f32.lt (local.get $s) (f32.const 0)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $tail))))

  ;; Lane 0 of f32x4.relaxed_madd(a, b, c): with a = 1 + 2^-12, b = 1 - 2^-12, c = -1, it is
  ;; -2^-24 where the runtime fuses the multiply-add (one rounding) and 0 where it does not, which
  ;; tells the peak estimate whether FMA runs (index.ts).
  (func (export "maddProbe") (param $a f32) (param $b f32) (param $c f32) (result f32)
    (f32x4.extract_lane 0
      (f32x4.relaxed_madd (f32x4.splat (local.get $a)) (f32x4.splat (local.get $b)) (f32x4.splat (local.get $c)))))

  ;; C[M, N] = A[M, K] @ B[K, N] (+ C when $acc is 1): row-major, row strides lda, ldb, ldc in
  ;; floats. Tiles of 4 rows x 8 columns (8 v128 accumulators), then 1 x 8 for the last M % 4
  ;; rows; the last N % 8 columns by scalar dot products.
  (func (export "gemm") (param $A i32) (param $B i32) (param $C i32) (param $M i32) (param $K i32) (param $N i32)
        (param $lda i32) (param $ldb i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $k i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32) (local $pc i32)
    (local $ldbB i32) (local $ldcB i32) (local $ldaB i32) (local $N8 i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $s f32)
    (local.set $ldaB (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldbB (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldcB (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $N8 (i32.and (local.get $N) (i32.const -8)))
    ;; column panels of 8
    (local.set $j (i32.const 0))
    (block $jDone
      (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $N8)))
        ;; row tiles of 4
        (local.set $i (i32.const 0))
        (block $iDone
          (loop $iLoop
            (br_if $iDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $M)))
            (local.set $pa0 (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $ldaB))))
            (local.set $pa1 (i32.add (local.get $pa0) (local.get $ldaB)))
            (local.set $pa2 (i32.add (local.get $pa1) (local.get $ldaB)))
            (local.set $pa3 (i32.add (local.get $pa2) (local.get $ldaB)))
            (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $K))
            (block $kDone
              (loop $kLoop
                (br_if $kDone (i32.eqz (local.get $k)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $a (v128.load32_splat (local.get $pa0)))
                (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
                (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
                (local.set $a (v128.load32_splat (local.get $pa1)))
                (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
                (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
                (local.set $a (v128.load32_splat (local.get $pa2)))
                (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
                (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
                (local.set $a (v128.load32_splat (local.get $pa3)))
                (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
                (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pa1 (i32.add (local.get $pa1) (i32.const 4)))
                (local.set $pa2 (i32.add (local.get $pa2) (i32.const 4)))
                (local.set $pa3 (i32.add (local.get $pa3) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ldbB)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $kLoop)))
            (local.set $pc (i32.add (local.get $C) (i32.add (i32.mul (local.get $i) (local.get $ldcB)) (i32.shl (local.get $j) (i32.const 2)))))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $pc))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $pc))))))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldcB)))
            (if (local.get $acc)
              (then
                (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $pc))))
                (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $pc))))))
            (v128.store (local.get $pc) (local.get $c10))
            (v128.store offset=16 (local.get $pc) (local.get $c11))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldcB)))
            (if (local.get $acc)
              (then
                (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $pc))))
                (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $pc))))))
            (v128.store (local.get $pc) (local.get $c20))
            (v128.store offset=16 (local.get $pc) (local.get $c21))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldcB)))
            (if (local.get $acc)
              (then
                (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $pc))))
                (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $pc))))))
            (v128.store (local.get $pc) (local.get $c30))
            (v128.store offset=16 (local.get $pc) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iLoop)))
        ;; the last M % 4 rows, one at a time
        (block $rDone
          (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $i) (local.get $M)))
            (local.set $pa0 (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $ldaB))))
            (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $K))
            (block $kDone1
              (loop $kLoop1
                (br_if $kDone1 (i32.eqz (local.get $k)))
                (local.set $a (v128.load32_splat (local.get $pa0)))
                (local.set $c00 (f32x4.relaxed_madd (local.get $a) (v128.load (local.get $pb)) (local.get $c00)))
                (local.set $c01 (f32x4.relaxed_madd (local.get $a) (v128.load offset=16 (local.get $pb)) (local.get $c01)))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ldbB)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $kLoop1)))
            (local.set $pc (i32.add (local.get $C) (i32.add (i32.mul (local.get $i) (local.get $ldcB)) (i32.shl (local.get $j) (i32.const 2)))))
            (if (local.get $acc)
              (then
                (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $pc))))
                (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $pc))))))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jLoop)))
    ;; the last N % 8 columns: scalar dot products
    (block $cDone
      (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $j) (local.get $N)))
        (local.set $i (i32.const 0))
        (block $riDone
          (loop $riLoop
            (br_if $riDone (i32.ge_u (local.get $i) (local.get $M)))
            (local.set $pa0 (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $ldaB))))
            (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $s (f32.const 0))
            (local.set $k (local.get $K))
            (block $kDone2
              (loop $kLoop2
                (br_if $kDone2 (i32.eqz (local.get $k)))
                (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pa0)) (f32.load (local.get $pb)))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $ldbB)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $kLoop2)))
            (local.set $pc (i32.add (local.get $C) (i32.add (i32.mul (local.get $i) (local.get $ldcB)) (i32.shl (local.get $j) (i32.const 2)))))
            (if (local.get $acc)
              (then (local.set $s (f32.add (local.get $s) (f32.load (local.get $pc))))))
            (f32.store (local.get $pc) (local.get $s))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $riLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cLoop))))

  ;; Indirection for a stride-1 convolution (implicit GEMM): for output pixel m = (n, oy, ox) and
  ;; tap t = ky * kw + kx, ind[m * kh * kw + t] = the byte address of x's pixel
  ;; (n, oy - padTop + ky, ox - padLeft + kx), or $zero (Ci zeros) where that is outside the image.
  ;; Rows m in [N * Ho * Wo, Mpad) point to $zero everywhere (padding to whole tiles of 4).
  (func (export "convIndirection") (param $ind i32) (param $x i32) (param $zero i32)
        (param $N i32) (param $H i32) (param $W i32) (param $Ci i32) (param $Ho i32) (param $Wo i32)
        (param $kh i32) (param $kw i32) (param $padTop i32) (param $padLeft i32) (param $Mpad i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $iy i32) (local $ix i32) (local $pix i32) (local $m i32) (local $end i32)
    (local.set $pix (i32.shl (local.get $Ci) (i32.const 2)))
    (block $nDone
      (loop $nLoop
        (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
        (local.set $oy (i32.const 0))
        (block $oyDone
          (loop $oyLoop
            (br_if $oyDone (i32.ge_u (local.get $oy) (local.get $Ho)))
            (local.set $ox (i32.const 0))
            (block $oxDone
              (loop $oxLoop
                (br_if $oxDone (i32.ge_u (local.get $ox) (local.get $Wo)))
                (local.set $ky (i32.const 0))
                (block $kyDone
                  (loop $kyLoop
                    (br_if $kyDone (i32.ge_u (local.get $ky) (local.get $kh)))
                    (local.set $iy (i32.add (i32.sub (local.get $oy) (local.get $padTop)) (local.get $ky)))
                    (local.set $kx (i32.const 0))
                    (block $kxDone
                      (loop $kxLoop
                        (br_if $kxDone (i32.ge_u (local.get $kx) (local.get $kw)))
                        (local.set $ix (i32.add (i32.sub (local.get $ox) (local.get $padLeft)) (local.get $kx)))
                        (i32.store (local.get $ind)
                          (select
                            (i32.add (local.get $x)
                              (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $iy)) (local.get $W)) (local.get $ix))
                                       (local.get $pix)))
                            (local.get $zero)
                            (i32.and (i32.lt_u (local.get $iy) (local.get $H)) (i32.lt_u (local.get $ix) (local.get $W)))))
                        (local.set $ind (i32.add (local.get $ind) (i32.const 4)))
                        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                        (br $kxLoop)))
                    (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                    (br $kyLoop)))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
    ;; padding rows
    (local.set $m (i32.mul (i32.mul (local.get $N) (local.get $Ho)) (local.get $Wo)))
    (local.set $end (i32.mul (i32.mul (local.get $Mpad) (local.get $kh)) (local.get $kw)))
    (local.set $m (i32.mul (i32.mul (local.get $m) (local.get $kh)) (local.get $kw)))
    (block $pDone
      (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $m) (local.get $end)))
        (i32.store (local.get $ind) (local.get $zero))
        (local.set $ind (i32.add (local.get $ind) (i32.const 4)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $pLoop))))

  ;; Implicit-GEMM convolution: out[m, :] = sum over taps t and channels c of
  ;; A_t(m)[c] * B[t * Ci + c, :], for output rows m in [m0, m1) (m0 % 4 == 0), where A_t(m) is
  ;; the pixel that ind[m * T + t] points to; B is [T * Ci, Co] row-major, Co % 8 == 0; out rows
  ;; of Co floats. Rows >= M are computed from the padding pointers but not stored.
  (func (export "convGemm") (param $ind i32) (param $B i32) (param $out i32)
        (param $m0 i32) (param $m1 i32) (param $M i32) (param $T i32) (param $Ci i32) (param $Co i32)
    (local $i i32) (local $j i32) (local $t i32) (local $c i32) (local $pind i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32) (local $pc i32)
    (local $rowB i32) (local $T4 i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowB (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (block $jDone
      (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $Co)))
        (local.set $i (local.get $m0))
        (block $iDone
          (loop $iLoop
            (br_if $iDone (i32.ge_u (local.get $i) (local.get $m1)))
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
            (local.set $pind (i32.add (local.get $ind) (i32.mul (local.get $i) (local.get $T4))))
            (local.set $pb (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $t (local.get $T))
            (block $tDone
              (loop $tLoop
                (br_if $tDone (i32.eqz (local.get $t)))
                (local.set $pa0 (i32.load (local.get $pind)))
                (local.set $pa1 (i32.load (i32.add (local.get $pind) (local.get $T4))))
                (local.set $pa2 (i32.load (i32.add (local.get $pind) (i32.shl (local.get $T4) (i32.const 1)))))
                (local.set $pa3 (i32.load (i32.add (local.get $pind) (i32.mul (local.get $T4) (i32.const 3)))))
                (local.set $c (local.get $Ci))
                (loop $cLoop
                  (local.set $b0 (v128.load (local.get $pb)))
                  (local.set $b1 (v128.load offset=16 (local.get $pb)))
                  (local.set $a (v128.load32_splat (local.get $pa0)))
                  (local.set $c00 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c00)))
                  (local.set $c01 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c01)))
                  (local.set $a (v128.load32_splat (local.get $pa1)))
                  (local.set $c10 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c10)))
                  (local.set $c11 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c11)))
                  (local.set $a (v128.load32_splat (local.get $pa2)))
                  (local.set $c20 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c20)))
                  (local.set $c21 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c21)))
                  (local.set $a (v128.load32_splat (local.get $pa3)))
                  (local.set $c30 (f32x4.relaxed_madd (local.get $a) (local.get $b0) (local.get $c30)))
                  (local.set $c31 (f32x4.relaxed_madd (local.get $a) (local.get $b1) (local.get $c31)))
                  (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                  (local.set $pa1 (i32.add (local.get $pa1) (i32.const 4)))
                  (local.set $pa2 (i32.add (local.get $pa2) (i32.const 4)))
                  (local.set $pa3 (i32.add (local.get $pa3) (i32.const 4)))
                  (local.set $pb (i32.add (local.get $pb) (local.get $rowB)))
                  (br_if $cLoop (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))
                (local.set $pind (i32.add (local.get $pind) (i32.const 4)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $tLoop)))
            (local.set $pc (i32.add (local.get $out) (i32.add (i32.mul (local.get $i) (local.get $rowB)) (i32.shl (local.get $j) (i32.const 2)))))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $M))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c10))
                (v128.store offset=16 (local.get $pc) (local.get $c11))))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $M))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c20))
                (v128.store offset=16 (local.get $pc) (local.get $c21))))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $M))
              (then
                (local.set $pc (i32.add (local.get $pc) (local.get $rowB)))
                (v128.store (local.get $pc) (local.get $c30))
                (v128.store offset=16 (local.get $pc) (local.get $c31))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jLoop))))

  ;; Filter gradient of a stride-1 convolution by implicit GEMM: for each tap t, channel block
  ;; c0 (4 channels, Ci % 4 == 0) and output-channel block j (8, Co % 8 == 0):
  ;; dW[t * Ci + c0 + r, j..j+8] += sum over m in [m0, m1) of A_t(m)[c0 + r] * dy[m, j..j+8],
  ;; A_t(m) the pixel that ind[m * T + t] points to (as for convGemm). dW is [T * Ci, Co].
  ;; The 4 channel values are broadcast by 4 splat loads rather than 1 load and 4 shuffles: loads
  ;; have ports to spare, while shuffles share the vector pipes with the multiply-adds.
  (func (export "convFilterGemm") (param $ind i32) (param $dy i32) (param $dW i32)
        (param $m0 i32) (param $m1 i32) (param $T i32) (param $Ci i32) (param $Co i32)
    (local $t i32) (local $c i32) (local $j i32) (local $m i32)
    (local $pind i32) (local $pdy i32) (local $pw i32) (local $rowB i32) (local $T4 i32) (local $cB i32) (local $pa i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $rowB (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (block $tDone
      (loop $tLoop
        (br_if $tDone (i32.ge_u (local.get $t) (local.get $T)))
        (local.set $c (i32.const 0))
        (block $cDone
          (loop $cLoop
            (br_if $cDone (i32.ge_u (local.get $c) (local.get $Ci)))
            (local.set $cB (i32.shl (local.get $c) (i32.const 2)))
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_u (local.get $j) (local.get $Co)))
                ;; dW rows t*Ci + c .. +3, columns j .. j+7
                (local.set $pw (i32.add (local.get $dW)
                  (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $Ci)) (local.get $c)) (local.get $rowB))
                           (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $c00 (v128.load (local.get $pw)))
                (local.set $c01 (v128.load offset=16 (local.get $pw)))
                (local.set $c10 (v128.load (i32.add (local.get $pw) (local.get $rowB))))
                (local.set $c11 (v128.load offset=16 (i32.add (local.get $pw) (local.get $rowB))))
                (local.set $c20 (v128.load (i32.add (local.get $pw) (i32.shl (local.get $rowB) (i32.const 1)))))
                (local.set $c21 (v128.load offset=16 (i32.add (local.get $pw) (i32.shl (local.get $rowB) (i32.const 1)))))
                (local.set $c30 (v128.load (i32.add (local.get $pw) (i32.mul (local.get $rowB) (i32.const 3)))))
                (local.set $c31 (v128.load offset=16 (i32.add (local.get $pw) (i32.mul (local.get $rowB) (i32.const 3)))))
                (local.set $pind (i32.add (local.get $ind) (i32.add (i32.mul (local.get $m0) (local.get $T4)) (i32.shl (local.get $t) (i32.const 2)))))
                (local.set $pdy (i32.add (local.get $dy) (i32.add (i32.mul (local.get $m0) (local.get $rowB)) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $m (local.get $m0))
                (block $mDone
                  (loop $mLoop
                    (br_if $mDone (i32.ge_u (local.get $m) (local.get $m1)))
                    (local.set $pa (i32.add (i32.load (local.get $pind)) (local.get $cB)))
                    (local.set $b0 (v128.load (local.get $pdy)))
                    (local.set $b1 (v128.load offset=16 (local.get $pdy)))
                    (local.set $s (v128.load32_splat (local.get $pa)))
                    (local.set $c00 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c00)))
                    (local.set $c01 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c01)))
                    (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
                    (local.set $c10 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c10)))
                    (local.set $c11 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c11)))
                    (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
                    (local.set $c20 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c20)))
                    (local.set $c21 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c21)))
                    (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
                    (local.set $c30 (f32x4.relaxed_madd (local.get $s) (local.get $b0) (local.get $c30)))
                    (local.set $c31 (f32x4.relaxed_madd (local.get $s) (local.get $b1) (local.get $c31)))
                    (local.set $pind (i32.add (local.get $pind) (local.get $T4)))
                    (local.set $pdy (i32.add (local.get $pdy) (local.get $rowB)))
                    (local.set $m (i32.add (local.get $m) (i32.const 1)))
                    (br $mLoop)))
                (v128.store (local.get $pw) (local.get $c00))
                (v128.store offset=16 (local.get $pw) (local.get $c01))
                (v128.store (i32.add (local.get $pw) (local.get $rowB)) (local.get $c10))
                (v128.store offset=16 (i32.add (local.get $pw) (local.get $rowB)) (local.get $c11))
                (v128.store (i32.add (local.get $pw) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c20))
                (v128.store offset=16 (i32.add (local.get $pw) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c21))
                (v128.store (i32.add (local.get $pw) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c30))
                (v128.store offset=16 (i32.add (local.get $pw) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c31))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $jLoop)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tLoop))))

  ;; Stride-1 convolution to at most 3 output channels (Conv2DBackpropInput of a first layer: dy
  ;; convolved with the flipped filter into the image's channels), by implicit GEMM with the sum
  ;; over input channels in the vector lanes: 2 output pixels x 3 channels of v128 partial sums
  ;; (few enough to stay in registers), added across lanes at the end. ind as for convGemm (over an
  ;; input of Cin channels, Cin % 4 == 0; rows padded to a multiple of 4); B is [T, 3, Cin] (zero
  ;; rows for channels >= Cout); out rows have Cout floats; m0 even.
  (func (export "convNarrow") (param $ind i32) (param $B i32) (param $out i32)
        (param $m0 i32) (param $m1 i32) (param $M i32) (param $T i32) (param $Cin i32) (param $Cout i32)
    (local $i i32) (local $t i32) (local $o i32) (local $pind i32) (local $pb i32) (local $T4 i32) (local $rowB i32)
    (local $pa0 i32) (local $pa1 i32) (local $r i32) (local $pc i32)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $x v128) (local $y v128)
    (local $a00 v128) (local $a01 v128) (local $a02 v128)
    (local $a10 v128) (local $a11 v128) (local $a12 v128)
    (local.set $T4 (i32.shl (local.get $T) (i32.const 2)))
    (local.set $rowB (i32.shl (local.get $Cin) (i32.const 2)))
    (local.set $i (local.get $m0))
    (block $iDone
      (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $m1)))
        (local.set $a00 (v128.const i32x4 0 0 0 0)) (local.set $a01 (v128.const i32x4 0 0 0 0)) (local.set $a02 (v128.const i32x4 0 0 0 0))
        (local.set $a10 (v128.const i32x4 0 0 0 0)) (local.set $a11 (v128.const i32x4 0 0 0 0)) (local.set $a12 (v128.const i32x4 0 0 0 0))
        (local.set $pind (i32.add (local.get $ind) (i32.mul (local.get $i) (local.get $T4))))
        (local.set $pb (local.get $B))
        (local.set $t (local.get $T))
        (block $tDone
          (loop $tLoop
            (br_if $tDone (i32.eqz (local.get $t)))
            (local.set $pa0 (i32.load (local.get $pind)))
            (local.set $pa1 (i32.load (i32.add (local.get $pind) (local.get $T4))))
            (local.set $o (i32.const 0))
            (loop $vLoop
              (local.set $w0 (v128.load (i32.add (local.get $pb) (local.get $o))))
              (local.set $w1 (v128.load (i32.add (i32.add (local.get $pb) (local.get $rowB)) (local.get $o))))
              (local.set $w2 (v128.load (i32.add (i32.add (local.get $pb) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $o))))
              (local.set $x (v128.load (i32.add (local.get $pa0) (local.get $o))))
              (local.set $y (v128.load (i32.add (local.get $pa1) (local.get $o))))
              (local.set $a00 (f32x4.relaxed_madd (local.get $x) (local.get $w0) (local.get $a00)))
              (local.set $a01 (f32x4.relaxed_madd (local.get $x) (local.get $w1) (local.get $a01)))
              (local.set $a02 (f32x4.relaxed_madd (local.get $x) (local.get $w2) (local.get $a02)))
              (local.set $a10 (f32x4.relaxed_madd (local.get $y) (local.get $w0) (local.get $a10)))
              (local.set $a11 (f32x4.relaxed_madd (local.get $y) (local.get $w1) (local.get $a11)))
              (local.set $a12 (f32x4.relaxed_madd (local.get $y) (local.get $w2) (local.get $a12)))
              (br_if $vLoop (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $rowB))))
            (local.set $pb (i32.add (local.get $pb) (i32.mul (local.get $rowB) (i32.const 3))))
            (local.set $pind (i32.add (local.get $pind) (i32.const 4)))
            (local.set $t (i32.sub (local.get $t) (i32.const 1)))
            (br $tLoop)))
        ;; lane sums, rows i and i+1 below M, channels below Cout
        (local.set $r (i32.const 0))
        (block $rDone
          (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (i32.const 2)))
            (br_if $rDone (i32.ge_u (i32.add (local.get $i) (local.get $r)) (local.get $M)))
            (local.set $pc (i32.add (local.get $out) (i32.shl (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $Cout)) (i32.const 2))))
            (if (i32.eqz (local.get $r))
              (then (local.set $w0 (local.get $a00)) (local.set $w1 (local.get $a01)) (local.set $w2 (local.get $a02)))
              (else (local.set $w0 (local.get $a10)) (local.set $w1 (local.get $a11)) (local.set $w2 (local.get $a12))))
            (f32.store (local.get $pc)
              (f32.add (f32.add (f32x4.extract_lane 0 (local.get $w0)) (f32x4.extract_lane 1 (local.get $w0)))
                       (f32.add (f32x4.extract_lane 2 (local.get $w0)) (f32x4.extract_lane 3 (local.get $w0)))))
            (if (i32.gt_u (local.get $Cout) (i32.const 1))
              (then
                (f32.store offset=4 (local.get $pc)
                  (f32.add (f32.add (f32x4.extract_lane 0 (local.get $w1)) (f32x4.extract_lane 1 (local.get $w1)))
                           (f32.add (f32x4.extract_lane 2 (local.get $w1)) (f32x4.extract_lane 3 (local.get $w1)))))))
            (if (i32.gt_u (local.get $Cout) (i32.const 2))
              (then
                (f32.store offset=8 (local.get $pc)
                  (f32.add (f32.add (f32x4.extract_lane 0 (local.get $w2)) (f32x4.extract_lane 1 (local.get $w2)))
                           (f32.add (f32x4.extract_lane 2 (local.get $w2)) (f32x4.extract_lane 3 (local.get $w2)))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $iLoop))))
)
