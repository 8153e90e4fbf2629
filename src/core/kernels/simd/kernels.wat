;; SIMD loops that run on the tfjs wasm backend's own heap (its memory is imported), for the
;; kernels in ../bnReluPool.ts. Compiled to simdModule.ts by scripts/build-simd-kernels.js.
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
  ;; arg = the window position (0..3, row-major) of the first maximum where y > 0, else -1.
  (func (export "bnReluPool") (param $x i32) (param $N i32) (param $H i32) (param $W i32) (param $C i32)
        (param $mean i32) (param $a i32) (param $beta i32) (param $y i32) (param $arg i32)
    (local $rowBytes i32) (local $lineBytes i32) (local $Ho i32) (local $Wo i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $j i32)
    (local $p0 i32) (local $line i32)
    (local $mu v128) (local $av v128) (local $bv v128)
    (local $m v128) (local $k v128) (local $z v128) (local $gt v128) (local $pos v128)
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
                  ;; position 0
                  (local.set $m (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $p0) (local.get $j))) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $k (v128.const i32x4 0 0 0 0))
                  ;; position 1: (dy 0, dx 1)
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (i32.add (local.get $p0) (local.get $rowBytes)) (local.get $j))) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $k) (local.get $gt)))
                  ;; position 2: (dy 1, dx 0)
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (i32.add (local.get $p0) (local.get $lineBytes)) (local.get $j))) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 2 2 2 2) (local.get $k) (local.get $gt)))
                  ;; position 3: (dy 1, dx 1)
                  (local.set $z (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (i32.add (local.get $p0) (i32.add (local.get $lineBytes) (local.get $rowBytes))) (local.get $j))) (local.get $mu)) (local.get $av)) (local.get $bv)))
                  (local.set $gt (f32x4.gt (local.get $z) (local.get $m)))
                  (local.set $m (v128.bitselect (local.get $z) (local.get $m) (local.get $gt)))
                  (local.set $k (v128.bitselect (v128.const i32x4 3 3 3 3) (local.get $k) (local.get $gt)))
                  (local.set $pos (f32x4.gt (local.get $m) (v128.const f32x4 0 0 0 0)))
                  (v128.store (local.get $y) (v128.and (local.get $m) (local.get $pos)))
                  (v128.store (local.get $arg) (v128.bitselect (local.get $k) (v128.const i32x4 -1 -1 -1 -1) (local.get $pos)))
                  (local.set $y (i32.add (local.get $y) (i32.const 16)))
                  (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
                  (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop))))

  ;; Backward sums: for each pooled output with arg >= 0, g = dy there and x the input at its
  ;; window position: s1 += g, s2 += g * (x - mean), per channel (float32 partials p1, p2, zero
  ;; on entry, flushed into the float64 s1, s2 every 16 windows).
  (func (export "poolGradSums") (param $x i32) (param $dy i32) (param $arg i32)
        (param $N i32) (param $H i32) (param $W i32) (param $C i32) (param $mean i32)
        (param $s1 i32) (param $s2 i32) (param $p1 i32) (param $p2 i32)
    (local $rowBytes i32) (local $lineBytes i32) (local $Ho i32) (local $Wo i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $j i32) (local $inBlock i32)
    (local $p0 i32) (local $line i32)
    (local $k v128) (local $g v128) (local $v v128)
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
                  (local.set $k (v128.load (local.get $arg)))
                  (local.set $g (v128.and (v128.load (local.get $dy))
                                          (i32x4.ge_s (local.get $k) (v128.const i32x4 0 0 0 0))))
                  (local.set $v (v128.load (i32.add (local.get $p0) (local.get $j))))
                  (local.set $v (v128.bitselect
                    (v128.load (i32.add (i32.add (local.get $p0) (local.get $rowBytes)) (local.get $j)))
                    (local.get $v) (i32x4.eq (local.get $k) (v128.const i32x4 1 1 1 1))))
                  (local.set $v (v128.bitselect
                    (v128.load (i32.add (i32.add (local.get $p0) (local.get $lineBytes)) (local.get $j)))
                    (local.get $v) (i32x4.eq (local.get $k) (v128.const i32x4 2 2 2 2))))
                  (local.set $v (v128.bitselect
                    (v128.load (i32.add (i32.add (local.get $p0) (i32.add (local.get $lineBytes) (local.get $rowBytes))) (local.get $j)))
                    (local.get $v) (i32x4.eq (local.get $k) (v128.const i32x4 3 3 3 3))))
                  (v128.store (i32.add (local.get $p1) (local.get $j))
                    (f32x4.add (v128.load (i32.add (local.get $p1) (local.get $j))) (local.get $g)))
                  (v128.store (i32.add (local.get $p2) (local.get $j))
                    (f32x4.add (v128.load (i32.add (local.get $p2) (local.get $j)))
                               (f32x4.mul (local.get $g)
                                          (f32x4.sub (local.get $v) (v128.load (i32.add (local.get $mean) (local.get $j)))))))
                  (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
                  (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
                  (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
                (local.set $inBlock (i32.add (local.get $inBlock) (i32.const 1)))
                (if (i32.eq (local.get $inBlock) (i32.const 16))
                  (then
                    (call $flush (local.get $p1) (local.get $p2) (local.get $s1) (local.get $s2) (local.get $C))
                    (local.set $inBlock (i32.const 0))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop)))
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

  ;; dx over the pooling windows: (x - mean) * cA + cB everywhere, plus c0 * dy at the window
  ;; position that arg names (none where arg is -1).
  (func (export "poolGradDx") (param $x i32) (param $dy i32) (param $arg i32)
        (param $N i32) (param $H i32) (param $W i32) (param $C i32)
        (param $mean i32) (param $c0 i32) (param $cA i32) (param $cB i32) (param $dx i32)
    (local $rowBytes i32) (local $lineBytes i32) (local $Ho i32) (local $Wo i32)
    (local $n i32) (local $oy i32) (local $ox i32) (local $j i32)
    (local $off i32) (local $lineOff i32) (local $o i32)
    (local $k v128) (local $g v128) (local $mu v128) (local $ca v128) (local $cb v128)
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
                  (local.set $k (v128.load (local.get $arg)))
                  (local.set $g (f32x4.mul (v128.load (local.get $dy)) (v128.load (i32.add (local.get $c0) (local.get $j)))))
                  (local.set $mu (v128.load (i32.add (local.get $mean) (local.get $j))))
                  (local.set $ca (v128.load (i32.add (local.get $cA) (local.get $j))))
                  (local.set $cb (v128.load (i32.add (local.get $cB) (local.get $j))))
                  ;; byte offset of position 0 of this window, channel block j
                  (local.set $off (i32.add (i32.add (local.get $lineOff)
                    (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $rowBytes))) (local.get $j)))
                  (local.set $o (local.get $off))
                  (v128.store (i32.add (local.get $dx) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 0 0 0 0)))))
                  (local.set $o (i32.add (local.get $off) (local.get $rowBytes)))
                  (v128.store (i32.add (local.get $dx) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 1 1 1 1)))))
                  (local.set $o (i32.add (local.get $off) (local.get $lineBytes)))
                  (v128.store (i32.add (local.get $dx) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 2 2 2 2)))))
                  (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
                  (v128.store (i32.add (local.get $dx) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $mu)) (local.get $ca)) (local.get $cb))
                               (v128.and (local.get $g) (i32x4.eq (local.get $k) (v128.const i32x4 3 3 3 3)))))
                  (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
                  (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
                  (br_if $ch (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $rowBytes))))
                (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                (br $oxLoop)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $oyLoop)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $nLoop))))
)
