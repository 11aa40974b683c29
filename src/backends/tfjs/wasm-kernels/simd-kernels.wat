;; SIMD loops that run on the tfjs wasm backend's own heap (the memory is
;; imported, so pointers are the tensors' memoryOffsets). Compiled by hand with
;;   wat2wasm simd-kernels.wat -o simd.wasm && base64 -w0 simd.wasm     (wabt 1.0.32; SIMD and bulk memory are on by default)
;; into simd-kernels.ts (SIMD_KERNELS_WASM_BASE64); keep both in sync.
(module
  (import "env" "memory" (memory 1))

  ;; Max-pool gradient for disjoint 2x2 windows, stride 2, NHWC, C % 4 == 0.
  ;; Writes all four inputs of every window: dy at the first strictly greatest
  ;; element in (0,0), (0,1), (1,0), (1,1) order, +0 elsewhere. Rows/columns not
  ;; covered by any window are left untouched (the caller zeroes them).
  (func (export "maxPoolGrad2x2")
    (param $x i32) (param $dy i32) (param $out i32)
    (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $OH i32) (param $OW i32)
    (local $b i32) (local $oh i32) (local $ow i32) (local $cb i32)
    (local $cBytes i32) (local $rowBytes i32) (local $row i32) (local $a i32)
    (local $v00 v128) (local $v01 v128) (local $v10 v128) (local $v11 v128)
    (local $best v128) (local $m01 v128) (local $m10 v128) (local $m11 v128) (local $any v128) (local $d v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $W) (local.get $cBytes)))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
      (local.set $oh (i32.const 0))
      (block $ohDone (loop $ohLoop
        (br_if $ohDone (i32.ge_u (local.get $oh) (local.get $OH)))
        ;; byte offset of input row 2*oh of image b
        (local.set $row (i32.mul
          (i32.add (i32.mul (local.get $b) (local.get $H)) (i32.shl (local.get $oh) (i32.const 1)))
          (local.get $rowBytes)))
        (local.set $ow (i32.const 0))
        (block $owDone (loop $owLoop
          (br_if $owDone (i32.ge_u (local.get $ow) (local.get $OW)))
          (local.set $cb (i32.const 0))
          (block $cDone (loop $cLoop
            (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
            (local.set $a (i32.add (i32.add (local.get $row)
              (i32.mul (i32.shl (local.get $ow) (i32.const 1)) (local.get $cBytes))) (local.get $cb)))
            (local.set $v00 (v128.load (i32.add (local.get $x) (local.get $a))))
            (local.set $v01 (v128.load (i32.add (i32.add (local.get $x) (local.get $a)) (local.get $cBytes))))
            (local.set $v10 (v128.load (i32.add (i32.add (local.get $x) (local.get $a)) (local.get $rowBytes))))
            (local.set $v11 (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $a)) (local.get $rowBytes)) (local.get $cBytes))))
            (local.set $d (v128.load (local.get $dy)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $m01 (f32x4.gt (local.get $v01) (local.get $v00)))
            (local.set $best (v128.bitselect (local.get $v01) (local.get $v00) (local.get $m01)))
            (local.set $m10 (f32x4.gt (local.get $v10) (local.get $best)))
            (local.set $best (v128.bitselect (local.get $v10) (local.get $best) (local.get $m10)))
            (local.set $m11 (f32x4.gt (local.get $v11) (local.get $best)))
            (local.set $any (v128.or (local.get $m10) (local.get $m11)))
            (v128.store (i32.add (i32.add (i32.add (local.get $out) (local.get $a)) (local.get $rowBytes)) (local.get $cBytes))
              (v128.and (local.get $d) (local.get $m11)))
            (v128.store (i32.add (i32.add (local.get $out) (local.get $a)) (local.get $rowBytes))
              (v128.and (local.get $d) (v128.andnot (local.get $m10) (local.get $m11))))
            (v128.store (i32.add (i32.add (local.get $out) (local.get $a)) (local.get $cBytes))
              (v128.and (local.get $d) (v128.andnot (local.get $m01) (local.get $any))))
            (v128.store (i32.add (local.get $out) (local.get $a))
              (v128.andnot (local.get $d) (v128.or (local.get $m01) (local.get $any))))
            (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
            (br $cLoop)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $owLoop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $ohLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))

  ;; dst[o, i] = scale * sum_r src[o, r, i] for src [outer, reduced, inner],
  ;; inner % 4 == 0. Blocks of up to 8 rows are summed in float32 lanes, the
  ;; block sums accumulated in float64 (acc: scratch of inner doubles).
  (func (export "sumMiddle")
    (param $src i32) (param $dst i32) (param $acc i32)
    (param $outer i32) (param $reduced i32) (param $inner i32) (param $scale f64)
    (local $o i32) (local $r0 i32) (local $kb i32) (local $k i32) (local $ib i32)
    (local $innerBytes i32) (local $p i32) (local $s v128) (local $q i32) (local $sc v128)
    (local.set $innerBytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $sc (f64x2.splat (local.get $scale)))
    (local.set $o (i32.const 0))
    (block $oDone (loop $oLoop
      (br_if $oDone (i32.ge_u (local.get $o) (local.get $outer)))
      (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $inner) (i32.const 3)))
      (local.set $r0 (i32.const 0))
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $r0) (local.get $reduced)))
        (local.set $kb (i32.sub (local.get $reduced) (local.get $r0)))
        (if (i32.gt_u (local.get $kb) (i32.const 8)) (then (local.set $kb (i32.const 8))))
        (local.set $ib (i32.const 0))
        (block $iDone (loop $iLoop
          (br_if $iDone (i32.ge_u (local.get $ib) (local.get $innerBytes)))
          ;; p = &src[o, r0, i]
          (local.set $p (i32.add (i32.add (local.get $src)
            (i32.mul (i32.add (i32.mul (local.get $o) (local.get $reduced)) (local.get $r0)) (local.get $innerBytes)))
            (local.get $ib)))
          (local.set $s (v128.load (local.get $p)))
          (local.set $k (i32.const 1))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $kb)))
            (local.set $p (i32.add (local.get $p) (local.get $innerBytes)))
            (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $p))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop)))
          ;; q = &acc[i] (8 bytes per element)
          (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $ib) (i32.const 1))))
          (v128.store (local.get $q)
            (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $s))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add (v128.load offset=16 (local.get $q))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
          (local.set $ib (i32.add (local.get $ib) (i32.const 16)))
          (br $iLoop)))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 8)))
        (br $rLoop)))
      ;; dst[o, :] = float32(acc * scale)
      (local.set $ib (i32.const 0))
      (block $wDone (loop $wLoop
        (br_if $wDone (i32.ge_u (local.get $ib) (local.get $innerBytes)))
        (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $ib) (i32.const 1))))
        (v128.store
          (i32.add (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $innerBytes))) (local.get $ib))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (v128.load (local.get $q)) (local.get $sc)))
            (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=16 (local.get $q)) (local.get $sc)))))
        (local.set $ib (i32.add (local.get $ib) (i32.const 16)))
        (br $wLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $oLoop))))

  ;; dst[p, c] = src[p, c] * coef[c] + coef[C + c] for n elements of [*, C], C % 4 == 0
  ;; (batch norm with per-channel gain and shift).
  (func (export "scaleShift")
    (param $src i32) (param $dst i32) (param $coef i32) (param $n i32) (param $C i32)
    (local $end i32) (local $cBytes i32) (local $cb i32) (local $shift i32)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $shift (i32.add (local.get $coef) (local.get $cBytes)))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        (v128.store (i32.add (local.get $dst) (local.get $cb))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $src) (local.get $cb))) (v128.load (i32.add (local.get $coef) (local.get $cb))))
            (v128.load (i32.add (local.get $shift) (local.get $cb)))))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $src (i32.add (local.get $src) (local.get $cBytes)))
      (local.set $dst (i32.add (local.get $dst) (local.get $cBytes)))
      (br $rows))))

  ;; out[c, r] = src[r, c] for src [R, C], R % 4 == 0 and C % 4 == 0, in 4x4 blocks
  ;; (four row loads, eight shuffles, four column stores).
  (func (export "transpose2d")
    (param $src i32) (param $out i32) (param $R i32) (param $C i32)
    (local $r i32) (local $cb i32) (local $cBytes i32) (local $rBytes i32) (local $p i32) (local $q i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rBytes (i32.shl (local.get $R) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $rDone (loop $rLoop
      (br_if $rDone (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        ;; p = &src[r, c]; q = &out[c, r]
        (local.set $p (i32.add (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $cBytes))) (local.get $cb)))
        (local.set $q (i32.add (i32.add (local.get $out) (i32.mul (i32.shr_u (local.get $cb) (i32.const 2)) (local.get $rBytes)))
          (i32.shl (local.get $r) (i32.const 2))))
        (local.set $a (v128.load (local.get $p)))
        (local.set $b (v128.load (i32.add (local.get $p) (local.get $cBytes))))
        (local.set $c (v128.load (i32.add (local.get $p) (i32.shl (local.get $cBytes) (i32.const 1)))))
        (local.set $d (v128.load (i32.add (local.get $p) (i32.mul (local.get $cBytes) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
        (v128.store (local.get $q)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $q) (local.get $rBytes))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $q) (i32.shl (local.get $rBytes) (i32.const 1)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store (i32.add (local.get $q) (i32.mul (local.get $rBytes) (i32.const 3)))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $rLoop))))

  ;; Binary ops with a per-channel operand: out[p, c] = f(big[p, c], small[c]) over
  ;; n elements of [*, C], C % 4 == 0 (batch norm's x - mean, dy * gain, ...).
  ;; out = big * small
  (func (export "mulChannel")
    (param $big i32) (param $small i32) (param $out i32) (param $n i32) (param $C i32)
    (local $end i32) (local $cBytes i32) (local $cb i32) (local $a v128) (local $s v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $big) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $big) (local.get $end)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        (local.set $a (v128.load (i32.add (local.get $big) (local.get $cb))))
        (local.set $s (v128.load (i32.add (local.get $small) (local.get $cb))))
        (v128.store (i32.add (local.get $out) (local.get $cb)) (f32x4.mul (local.get $a) (local.get $s)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $big (i32.add (local.get $big) (local.get $cBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $cBytes)))
      (br $rows))))
  ;; out = big + small
  (func (export "addChannel")
    (param $big i32) (param $small i32) (param $out i32) (param $n i32) (param $C i32)
    (local $end i32) (local $cBytes i32) (local $cb i32) (local $a v128) (local $s v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $big) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $big) (local.get $end)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        (local.set $a (v128.load (i32.add (local.get $big) (local.get $cb))))
        (local.set $s (v128.load (i32.add (local.get $small) (local.get $cb))))
        (v128.store (i32.add (local.get $out) (local.get $cb)) (f32x4.add (local.get $a) (local.get $s)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $big (i32.add (local.get $big) (local.get $cBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $cBytes)))
      (br $rows))))
  ;; out = big - small
  (func (export "subChannel")
    (param $big i32) (param $small i32) (param $out i32) (param $n i32) (param $C i32)
    (local $end i32) (local $cBytes i32) (local $cb i32) (local $a v128) (local $s v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $big) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $big) (local.get $end)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        (local.set $a (v128.load (i32.add (local.get $big) (local.get $cb))))
        (local.set $s (v128.load (i32.add (local.get $small) (local.get $cb))))
        (v128.store (i32.add (local.get $out) (local.get $cb)) (f32x4.sub (local.get $a) (local.get $s)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $big (i32.add (local.get $big) (local.get $cBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $cBytes)))
      (br $rows))))
  ;; out = small - big
  (func (export "rsubChannel")
    (param $big i32) (param $small i32) (param $out i32) (param $n i32) (param $C i32)
    (local $end i32) (local $cBytes i32) (local $cb i32) (local $a v128) (local $s v128)
    (local.set $cBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $big) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $big) (local.get $end)))
      (local.set $cb (i32.const 0))
      (block $cDone (loop $cLoop
        (br_if $cDone (i32.ge_u (local.get $cb) (local.get $cBytes)))
        (local.set $a (v128.load (i32.add (local.get $big) (local.get $cb))))
        (local.set $s (v128.load (i32.add (local.get $small) (local.get $cb))))
        (v128.store (i32.add (local.get $out) (local.get $cb)) (f32x4.sub (local.get $s) (local.get $a)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 16)))
        (br $cLoop)))
      (local.set $big (i32.add (local.get $big) (local.get $cBytes)))
      (local.set $out (i32.add (local.get $out) (local.get $cBytes)))
      (br $rows))))
)
