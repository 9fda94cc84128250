//! Exact array operations for the "arrays and layers" built-ins of the
//! derivation format: true convolution (`conv1d`, `conv2d`, kernel flipped),
//! correlation, circular convolution, max and average pooling with their
//! ReLU, flattening, global average pooling and an
//! entry-by-entry comparison that lists every mismatch. Every entry is an exact
//! [`BigRational`]; nothing here rounds, and nothing here uses the CAS. Every
//! size or argument problem is a [`LayerError`] naming the argument, never a
//! panic, and the work of every operation is bounded by [`ARRAY_ENTRIES`] and
//! [`LAYER_WORK`] so that a huge padding or stride cannot exhaust the machine.
//!
//! Indices are 0-based in this API (as in `get`) and 1-based in the user-facing
//! [`Mismatch::entry`] and in error messages, like the derivation format.

use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

/// The budget [`Budgets::array_entries`](crate::config::Budgets::array_entries).
pub(crate) const ARRAY_ENTRIES: usize = crate::config::Budgets::DEFAULT.array_entries;

/// The budget [`Budgets::layer_work`](crate::config::Budgets::layer_work).
pub(crate) const LAYER_WORK: usize = crate::config::Budgets::DEFAULT.layer_work;

/// A dense exact array in row-major order; a vector is a column (`cols == 1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Array {
    /// Number of rows (at least 1 in a valid array).
    pub(crate) rows: usize,
    /// Number of columns (at least 1 in a valid array).
    pub(crate) cols: usize,
    /// The `rows * cols` entries, row by row.
    pub(crate) data: Vec<BigRational>,
}

/// A size or argument problem, naming the argument it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("argument `{argument}`: {message}")]
pub(crate) struct LayerError {
    /// The argument at fault, e.g. `"stride"`, `"h"`, `"x"`.
    pub(crate) argument: String,
    /// What is wrong with it, for a reader.
    pub(crate) message: String,
}

/// How a convolution treats the border of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PadMode {
    /// Zero padding of this many rows and columns on every side.
    Zero(usize),
    /// Wrap around (periodic input); the output keeps the input's size.
    Circular,
}

/// One entry where two arrays differ.
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// The entry as (row, column), 1-based.
    pub(crate) entry: (usize, usize),
    /// The left-hand value there.
    pub(crate) lhs: BigRational,
    /// The right-hand value there.
    pub(crate) rhs: BigRational,
}

impl LayerError {
    /// An error about `argument`.
    pub(crate) fn new(argument: &str, message: impl Into<String>) -> LayerError {
        LayerError {
            argument: argument.to_string(),
            message: message.into(),
        }
    }
}

fn err<T>(argument: &str, message: impl Into<String>) -> Result<T, LayerError> {
    Err(LayerError::new(argument, message))
}

/// `what` as a number, or an error naming `argument` when it overflows.
fn checked(value: Option<usize>, argument: &str, what: &str) -> Result<usize, LayerError> {
    value.ok_or_else(|| LayerError::new(argument, format!("{what} is too large")))
}

/// Refuses an operation of `work` steps producing `entries` entries beyond the budgets.
fn budget(entries: usize, work: usize, argument: &str) -> Result<(), LayerError> {
    if entries > ARRAY_ENTRIES {
        return err(
            argument,
            format!("the result would have {entries} entries, more than the limit {ARRAY_ENTRIES}"),
        );
    }
    if work > LAYER_WORK {
        return err(
            argument,
            format!("the operation would take {work} steps, more than the limit {LAYER_WORK}"),
        );
    }
    Ok(())
}

impl Array {
    /// A `rows × cols` array from its entries in row-major order.
    pub(crate) fn new(
        rows: usize,
        cols: usize,
        data: Vec<BigRational>,
    ) -> Result<Array, LayerError> {
        if rows == 0 {
            return err("rows", "an array needs at least one row");
        }
        if cols == 0 {
            return err("cols", "an array needs at least one column");
        }
        let len = checked(rows.checked_mul(cols), "rows", "rows × cols")?;
        if data.len() != len {
            return err(
                "data",
                format!(
                    "a {rows} × {cols} array needs {len} entries, {} given",
                    data.len()
                ),
            );
        }
        Ok(Array { rows, cols, data })
    }

    /// A `rows × cols` array of integers given in row-major order.
    #[cfg(test)]
    pub(crate) fn from_ints(rows: usize, cols: usize, data: &[i64]) -> Result<Array, LayerError> {
        Array::new(rows, cols, data.iter().map(|&v| int(v)).collect())
    }

    /// The `rows × cols` array of zeros.
    #[cfg(test)]
    pub(crate) fn zeros(rows: usize, cols: usize) -> Result<Array, LayerError> {
        if rows == 0 {
            return err("rows", "an array needs at least one row");
        }
        if cols == 0 {
            return err("cols", "an array needs at least one column");
        }
        let len = checked(rows.checked_mul(cols), "rows", "rows × cols")?;
        budget(len, len, "rows")?;
        Ok(Array {
            rows,
            cols,
            data: vec![BigRational::zero(); len],
        })
    }

    /// An array from its rows; every row must have the same, nonzero length.
    pub(crate) fn from_rows(rows: Vec<Vec<BigRational>>) -> Result<Array, LayerError> {
        let Some(first) = rows.first() else {
            return err("rows", "an array needs at least one row");
        };
        let cols = first.len();
        if cols == 0 {
            return err("rows", "row 1 is empty; an array needs at least one column");
        }
        if let Some((k, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != cols) {
            return err(
                "rows",
                format!(
                    "ragged rows: row {} has {} entries but row 1 has {cols}",
                    k + 1,
                    row.len()
                ),
            );
        }
        let n = rows.len();
        Array::new(n, cols, rows.into_iter().flatten().collect())
    }

    /// An array from rows of integers (ragged or empty rows are an error).
    #[cfg(test)]
    pub(crate) fn from_int_rows(rows: &[&[i64]]) -> Result<Array, LayerError> {
        Array::from_rows(
            rows.iter()
                .map(|r| r.iter().map(|&v| int(v)).collect())
                .collect(),
        )
    }

    /// A column vector from its entries.
    #[cfg(test)]
    pub(crate) fn column(data: Vec<BigRational>) -> Result<Array, LayerError> {
        let n = data.len();
        if n == 0 {
            return err("data", "a vector needs at least one entry");
        }
        Array::new(n, 1, data)
    }

    /// Whether the fields are consistent: both sizes at least 1 and `rows · cols` entries.
    pub(crate) fn is_valid(&self) -> bool {
        self.rows > 0 && self.cols > 0 && self.rows.checked_mul(self.cols) == Some(self.data.len())
    }

    /// Checks the fields (see [`Array::is_valid`]), naming `argument` when they are inconsistent.
    pub(crate) fn validate(&self, argument: &str) -> Result<(), LayerError> {
        if self.rows == 0 || self.cols == 0 || self.data.is_empty() {
            return err(
                argument,
                format!("the array is empty ({} × {})", self.rows, self.cols),
            );
        }
        if !self.is_valid() {
            return err(
                argument,
                format!(
                    "a {} × {} array must have {} entries, it has {}",
                    self.rows,
                    self.cols,
                    self.rows.saturating_mul(self.cols),
                    self.data.len()
                ),
            );
        }
        Ok(())
    }

    /// The entry at 0-based (`i`, `j`).
    ///
    /// # Panics
    /// When (`i`, `j`) is outside the array; use [`Array::try_get`] for a checked access.
    pub(crate) fn get(&self, i: usize, j: usize) -> &BigRational {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) outside a {} × {} array",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }

    /// The entry at 0-based (`i`, `j`), or an error naming `i` or `j` when it is outside.
    #[cfg(test)]
    pub(crate) fn try_get(&self, i: usize, j: usize) -> Result<&BigRational, LayerError> {
        if i >= self.rows {
            return err("i", format!("row {i} (0-based) outside {} rows", self.rows));
        }
        if j >= self.cols {
            return err(
                "j",
                format!("column {j} (0-based) outside {} columns", self.cols),
            );
        }
        self.data
            .get(i * self.cols + j)
            .ok_or_else(|| LayerError::new("self", "the array has fewer entries than its size"))
    }

    /// Entry (`i`, `j`) of an array already known to be valid, with (`i`, `j`) inside.
    fn at(&self, i: usize, j: usize) -> &BigRational {
        &self.data[i * self.cols + j]
    }

    /// The transpose. (An inconsistent array keeps its data and only swaps its sizes.)
    pub(crate) fn transpose(&self) -> Array {
        if !self.is_valid() {
            return Array {
                rows: self.cols,
                cols: self.rows,
                data: self.data.clone(),
            };
        }
        let mut data = Vec::with_capacity(self.data.len());
        for j in 0..self.cols {
            for i in 0..self.rows {
                data.push(self.at(i, j).clone());
            }
        }
        Array {
            rows: self.cols,
            cols: self.rows,
            data,
        }
    }

    /// `f` applied to every entry.
    pub(crate) fn map(&self, f: impl Fn(&BigRational) -> BigRational) -> Array {
        Array {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(f).collect(),
        }
    }

    /// `f` applied entry by entry to `self` and `other`, which must have the same size.
    pub(crate) fn zip_with(
        &self,
        other: &Array,
        f: impl Fn(&BigRational, &BigRational) -> BigRational,
    ) -> Result<Array, LayerError> {
        self.validate("self")?;
        other.validate("other")?;
        same_shape(self, other, "other")?;
        Ok(Array {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(other.data.iter())
                .map(|(a, b)| f(a, b))
                .collect(),
        })
    }

    /// The matrix product `self · other`.
    pub(crate) fn matmul(&self, other: &Array) -> Result<Array, LayerError> {
        self.validate("self")?;
        other.validate("other")?;
        if self.cols != other.rows {
            return err(
                "other",
                format!(
                    "cannot multiply {} × {} by {} × {}: {} columns against {} rows",
                    self.rows, self.cols, other.rows, other.cols, self.cols, other.rows
                ),
            );
        }
        let entries = checked(self.rows.checked_mul(other.cols), "other", "the product")?;
        let work = checked(entries.checked_mul(self.cols), "other", "the product")?;
        budget(entries, work, "other")?;
        let mut data = Vec::with_capacity(entries);
        for i in 0..self.rows {
            for j in 0..other.cols {
                let mut s = DotAcc::new();
                for k in 0..self.cols {
                    s.add_product(self.at(i, k), other.at(k, j));
                }
                data.push(s.finish());
            }
        }
        Ok(Array {
            rows: self.rows,
            cols: other.cols,
            data,
        })
    }

    /// Every entry multiplied by `q`.
    pub(crate) fn scale(&self, q: &BigRational) -> Array {
        self.map(|v| v * q)
    }
}

impl fmt::Display for Array {
    /// The array in the format's literal syntax, `[[1, 2], [3, 4]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (k, row) in self.data.chunks(self.cols.max(1)).enumerate() {
            if k > 0 {
                write!(f, ", ")?;
            }
            write!(f, "[")?;
            for (l, v) in row.iter().enumerate() {
                if l > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{v}")?;
            }
            write!(f, "]")?;
        }
        write!(f, "]")
    }
}

/// The integer `v` as an exact rational.
#[cfg(test)]
pub(crate) fn int(v: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(v))
}

/// Errs (naming `argument`, the right-hand one) unless `a` and `b` have the same size.
fn same_shape(a: &Array, b: &Array, argument: &str) -> Result<(), LayerError> {
    let rows = a.rows != b.rows;
    let cols = a.cols != b.cols;
    let msg = match (rows, cols) {
        (false, false) => return Ok(()),
        (true, false) => format!("rows differ: {} against {}", a.rows, b.rows),
        (false, true) => format!("columns differ: {} against {}", a.cols, b.cols),
        (true, true) => format!(
            "rows differ: {} against {}; columns differ: {} against {}",
            a.rows, b.rows, a.cols, b.cols
        ),
    };
    err(argument, msg)
}

/// The kernel rotated by 180 degrees: `flip(h)(a, b) = h(K_r − 1 − a, K_c − 1 − b)`.
pub(crate) fn flip(h: &Array) -> Array {
    // In row-major order a 180-degree rotation is exactly the reversal of the data.
    let mut data = h.data.clone();
    data.reverse();
    Array {
        rows: h.rows,
        cols: h.cols,
        data,
    }
}

/// `a + b`, without the gcd a fraction's sum needs when both are integers.
pub(crate) fn add(a: &BigRational, b: &BigRational) -> BigRational {
    if a.is_integer() && b.is_integer() {
        BigRational::from_integer(a.numer() + b.numer())
    } else {
        a + b
    }
}

/// `a − b`, without a gcd when both are integers.
pub(crate) fn sub(a: &BigRational, b: &BigRational) -> BigRational {
    if a.is_integer() && b.is_integer() {
        BigRational::from_integer(a.numer() - b.numer())
    } else {
        a - b
    }
}

/// Sums exact products, in machine integers while every term is a small
/// integer (no gcd per step), and in exact rationals from the first term that
/// is not.
struct DotAcc {
    small: i128,
    big: Option<BigRational>,
}

impl DotAcc {
    fn new() -> DotAcc {
        DotAcc {
            small: 0,
            big: None,
        }
    }

    fn add_product(&mut self, a: &BigRational, b: &BigRational) {
        if self.big.is_none() && a.is_integer() && b.is_integer() {
            if let (Some(x), Some(y)) = (a.numer().to_i64(), b.numer().to_i64()) {
                if let Some(s) = (x as i128)
                    .checked_mul(y as i128)
                    .and_then(|p| self.small.checked_add(p))
                {
                    self.small = s;
                    return;
                }
            }
        }
        *self.exact() += a * b;
    }

    /// The running sum as an exact rational, from here on.
    fn exact(&mut self) -> &mut BigRational {
        let small = self.small;
        self.big
            .get_or_insert_with(|| BigRational::from_integer(BigInt::from(small)))
    }

    fn add(&mut self, a: &BigRational) {
        if self.big.is_none() && a.is_integer() {
            if let Some(s) = a
                .numer()
                .to_i64()
                .and_then(|x| self.small.checked_add(x as i128))
            {
                self.small = s;
                return;
            }
        }
        *self.exact() += a;
    }

    fn finish(self) -> BigRational {
        self.big
            .unwrap_or_else(|| BigRational::from_integer(BigInt::from(self.small)))
    }
}

/// The output length ⌊(n + 2·pad − k)/stride⌋ + 1 of one dimension, or an error.
fn out_len(n: usize, k: usize, pad: usize, stride: usize, dim: &str) -> Result<usize, LayerError> {
    let padded = checked(
        pad.checked_mul(2).and_then(|p| p.checked_add(n)),
        "pad",
        "the padded input",
    )?;
    if k > padded {
        let (arg, what) = if pad == 0 {
            ("h", "input")
        } else {
            ("h", "padded input")
        };
        return err(
            arg,
            format!("the kernel has {k} {dim} but the {what} only {padded}"),
        );
    }
    Ok(window_positions(padded, k, stride))
}

/// The number of window positions: offsets `0, s, 2s, ...` at which a window
/// of `k` fits in `n`, counted one by one. Shapes come from this count, not
/// from the closed form ⌊(n − k)/s⌋ + 1, so a claimed output-size formula is
/// checked against an independent computation. `stride` must be at least 1.
fn window_positions(n: usize, k: usize, stride: usize) -> usize {
    let mut count = 0;
    let mut start = 0usize;
    while start.checked_add(k).is_some_and(|end| end <= n) {
        count += 1;
        start = match start.checked_add(stride) {
            Some(next) => next,
            None => break,
        };
    }
    count
}

/// The output shape of [`conv2d`] or [`correlate2d`] for a `x` × `h` input
/// and kernel shape, with the same errors (stride, mode, a kernel larger
/// than the padded input), without computing any entry.
pub(crate) fn conv_shape(
    x: (usize, usize),
    h: (usize, usize),
    pad: PadMode,
    stride: usize,
) -> Result<(usize, usize), LayerError> {
    if stride == 0 {
        return err("stride", "the stride must be at least 1");
    }
    match pad {
        PadMode::Zero(p) => Ok((
            out_len(x.0, h.0, p, stride, "rows")?,
            out_len(x.1, h.1, p, stride, "columns")?,
        )),
        PadMode::Circular if stride != 1 => err(
            "stride",
            format!("circular mode needs stride 1, {stride} given"),
        ),
        PadMode::Circular => Ok(x),
    }
}

/// The output shape of [`maxpool2d`] or [`avgpool2d`], with the same errors.
pub(crate) fn pool_shape(
    x: (usize, usize),
    size: usize,
    stride: usize,
) -> Result<(usize, usize), LayerError> {
    pool_dims(x.0, x.1, size, stride)
}

/// Zero-padded correlation of `x` with `h` (`pad_r`/`pad_c` rows/columns on each side).
fn correlate_zero(
    x: &Array,
    h: &Array,
    pad_r: usize,
    pad_c: usize,
    stride: usize,
) -> Result<Array, LayerError> {
    let out_r = out_len(x.rows, h.rows, pad_r, stride, "rows")?;
    let out_c = out_len(x.cols, h.cols, pad_c, stride, "columns")?;
    let entries = checked(out_r.checked_mul(out_c), "pad", "the output")?;
    let work = checked(entries.checked_mul(h.data.len()), "h", "the work")?;
    budget(
        entries,
        work,
        if pad_r.max(pad_c) > 0 { "pad" } else { "x" },
    )?;
    let mut data = Vec::with_capacity(entries);
    for i in 0..out_r {
        for j in 0..out_c {
            let mut s = DotAcc::new();
            for a in 0..h.rows {
                // Row in padded coordinates; it is at most rows + 2·pad − 1, so no overflow.
                let u = i * stride + a;
                if u < pad_r || u - pad_r >= x.rows {
                    continue;
                }
                for b in 0..h.cols {
                    let v = j * stride + b;
                    if v < pad_c || v - pad_c >= x.cols {
                        continue;
                    }
                    let w = h.at(a, b);
                    if !w.is_zero() {
                        s.add_product(x.at(u - pad_r, v - pad_c), w);
                    }
                }
            }
            data.push(s.finish());
        }
    }
    Ok(Array {
        rows: out_r,
        cols: out_c,
        data,
    })
}

/// Circular convolution (`flip == false`: `Σ x((i−a) mod R, (j−b) mod C) h(a, b)`)
/// or circular correlation (`Σ x((i+a) mod R, (j+b) mod C) h(a, b)`).
fn circular(x: &Array, h: &Array, correlate: bool) -> Result<Array, LayerError> {
    let (r, c) = (x.rows, x.cols);
    let entries = x.data.len();
    let work = checked(entries.checked_mul(h.data.len()), "h", "the work")?;
    budget(entries, work, "h")?;
    let mut data = Vec::with_capacity(entries);
    for i in 0..r {
        for j in 0..c {
            let mut s = DotAcc::new();
            for a in 0..h.rows {
                let ar = a % r;
                let u = if correlate {
                    (i + ar) % r
                } else {
                    (i + r - ar) % r
                };
                for b in 0..h.cols {
                    let bc = b % c;
                    let v = if correlate {
                        (j + bc) % c
                    } else {
                        (j + c - bc) % c
                    };
                    let w = h.at(a, b);
                    if !w.is_zero() {
                        s.add_product(x.at(u, v), w);
                    }
                }
            }
            data.push(s.finish());
        }
    }
    Ok(Array {
        rows: r,
        cols: c,
        data,
    })
}

/// The checks [`conv_shape`] makes, on the arrays themselves.
fn check_conv_args(x: &Array, h: &Array, pad: PadMode, stride: usize) -> Result<(), LayerError> {
    x.validate("x")?;
    h.validate("h")?;
    conv_shape((x.rows, x.cols), (h.rows, h.cols), pad, stride).map(|_| ())
}

/// True 2-D convolution (the kernel is flipped).
///
/// `Zero(p)`: `y(i, j) = Σ_{a,b} xpad(i·s + a, j·s + b) · flip(h)(a, b)`, 0-based, of size
/// ⌊(N + 2p − K)/s⌋ + 1 in each dimension. `Circular`: `y(i, j) = Σ_{a,b} x((i − a) mod R,
/// (j − b) mod C) · h(a, b)`, of the input's size R × C; the stride must be 1 (a kernel larger
/// than the input is allowed there: it wraps around more than once).
pub(crate) fn conv2d(
    x: &Array,
    h: &Array,
    pad: PadMode,
    stride: usize,
) -> Result<Array, LayerError> {
    check_conv_args(x, h, pad, stride)?;
    match pad {
        PadMode::Zero(p) => correlate_zero(x, &flip(h), p, p, stride),
        PadMode::Circular => circular(x, h, false),
    }
}

/// 2-D correlation: [`conv2d`] without the flip.
///
/// `Zero(p)`: `y(i, j) = Σ_{a,b} xpad(i·s + a, j·s + b) · h(a, b)`, so
/// `correlate2d(x, h) = conv2d(x, flip(h))` exactly. `Circular` (stride 1):
/// `y(i, j) = Σ_{a,b} x((i + a) mod R, (j + b) mod C) · h(a, b)`, the usual cyclic
/// correlation; it equals circular `conv2d(x, flip(h))` shifted by (K_r − 1, K_c − 1).
pub(crate) fn correlate2d(
    x: &Array,
    h: &Array,
    pad: PadMode,
    stride: usize,
) -> Result<Array, LayerError> {
    check_conv_args(x, h, pad, stride)?;
    match pad {
        PadMode::Zero(p) => correlate_zero(x, h, p, p, stride),
        PadMode::Circular => circular(x, h, true),
    }
}

/// `v` as a column vector and whether it was a row, or an error naming `argument`.
fn as_column(v: &Array, argument: &str) -> Result<(Array, bool), LayerError> {
    v.validate(argument)?;
    if v.cols == 1 {
        Ok((v.clone(), false))
    } else if v.rows == 1 {
        Ok((v.transpose(), true))
    } else {
        err(
            argument,
            format!("expected a vector, got a {} × {} array", v.rows, v.cols),
        )
    }
}

/// True 1-D convolution of vectors (kernel flipped), zero padding `pad` at both ends:
/// `y(i) = Σ_a xpad(i·s + a) · h(K − 1 − a)`, length ⌊(N + 2·pad − K)/s⌋ + 1. The result is a
/// column, or a row when `x` is a row (1 × n with n > 1).
pub(crate) fn conv1d(x: &Array, h: &Array, pad: usize, stride: usize) -> Result<Array, LayerError> {
    let (xc, x_is_row) = as_column(x, "x")?;
    let (hc, _) = as_column(h, "h")?;
    if stride == 0 {
        return err("stride", "the stride must be at least 1");
    }
    let y = correlate_zero(&xc, &flip(&hc), pad, 0, stride)?;
    Ok(if x_is_row { y.transpose() } else { y })
}

/// Output size of pooling `size × size` windows with `stride` over `x` (no padding).
fn pool_dims(
    rows: usize,
    cols: usize,
    size: usize,
    stride: usize,
) -> Result<(usize, usize), LayerError> {
    if size == 0 {
        return err("size", "the pool size must be at least 1");
    }
    if stride == 0 {
        return err("stride", "the stride must be at least 1");
    }
    if size > rows {
        return err(
            "size",
            format!("the pool window has {size} rows but the input only {rows}"),
        );
    }
    if size > cols {
        return err(
            "size",
            format!("the pool window has {size} columns but the input only {cols}"),
        );
    }
    let out_r = window_positions(rows, size, stride);
    let out_c = window_positions(cols, size, stride);
    let entries = checked(out_r.checked_mul(out_c), "size", "the output")?;
    let work = checked(
        size.checked_mul(size).and_then(|s| s.checked_mul(entries)),
        "size",
        "the work",
    )?;
    budget(entries, work, "size")?;
    Ok((out_r, out_c))
}

/// The entries of the window at output (`i`, `j`), with their 0-based positions.
fn window(
    x: &Array,
    i: usize,
    j: usize,
    size: usize,
    stride: usize,
) -> impl Iterator<Item = ((usize, usize), &BigRational)> {
    let (r0, c0) = (i * stride, j * stride);
    (r0..r0 + size).flat_map(move |r| (c0..c0 + size).map(move |c| ((r, c), x.at(r, c))))
}

/// Max pooling of `size × size` windows with `stride`, no padding: ⌊(N − size)/stride⌋ + 1.
pub(crate) fn maxpool2d(x: &Array, size: usize, stride: usize) -> Result<Array, LayerError> {
    x.validate("x")?;
    let (out_r, out_c) = pool_dims(x.rows, x.cols, size, stride)?;
    let mut data = Vec::with_capacity(out_r * out_c);
    for i in 0..out_r {
        for j in 0..out_c {
            let mut best: Option<&BigRational> = None;
            for (_, v) in window(x, i, j, size, stride) {
                if best.is_none_or(|b| v > b) {
                    best = Some(v);
                }
            }
            data.push(best.cloned().unwrap_or_else(BigRational::zero));
        }
    }
    Ok(Array {
        rows: out_r,
        cols: out_c,
        data,
    })
}

/// Average pooling of `size × size` windows with `stride`, no padding.
pub(crate) fn avgpool2d(x: &Array, size: usize, stride: usize) -> Result<Array, LayerError> {
    x.validate("x")?;
    let (out_r, out_c) = pool_dims(x.rows, x.cols, size, stride)?;
    let area = BigRational::from_integer(BigInt::from(size) * BigInt::from(size));
    let mut data = Vec::with_capacity(out_r * out_c);
    for i in 0..out_r {
        for j in 0..out_c {
            let mut s = DotAcc::new();
            for (_, v) in window(x, i, j, size, stride) {
                s.add(v);
            }
            data.push(s.finish() / &area);
        }
    }
    Ok(Array {
        rows: out_r,
        cols: out_c,
        data,
    })
}

/// `max(v, 0)` entry by entry.
pub(crate) fn relu(x: &Array) -> Array {
    x.map(|v| {
        if v.is_negative() {
            BigRational::zero()
        } else {
            v.clone()
        }
    })
}

/// The entries in row-major order as a column vector.
pub(crate) fn flatten(x: &Array) -> Array {
    Array {
        rows: x.data.len(),
        cols: 1,
        data: x.data.clone(),
    }
}

/// The mean of all entries (0 for an array with no entries, which only hand-set fields can make).
pub(crate) fn global_avg_pool(x: &Array) -> BigRational {
    if x.data.is_empty() {
        return BigRational::zero();
    }
    let mut s = DotAcc::new();
    for v in &x.data {
        s.add(v);
    }
    s.finish() / BigRational::from_integer(BigInt::from(x.data.len()))
}

/// Circular shift: `y(i, j) = x((i − dr) mod R, (j − dc) mod C)` (entry (0, 0) moves to (dr, dc)).
pub(crate) fn roll(x: &Array, dr: usize, dc: usize) -> Result<Array, LayerError> {
    x.validate("x")?;
    let (r, c) = (x.rows, x.cols);
    let (dr, dc) = (dr % r, dc % c);
    let mut data = Vec::with_capacity(x.data.len());
    for i in 0..r {
        for j in 0..c {
            data.push(x.at((i + r - dr) % r, (j + c - dc) % c).clone());
        }
    }
    Ok(Array {
        rows: r,
        cols: c,
        data,
    })
}

/// Every entry where `lhs` and `rhs` differ, in row-major order (1-based positions).
/// Arrays of different sizes are an error naming `rhs` and the dimension that differs.
#[cfg(test)]
pub(crate) fn compare(lhs: &Array, rhs: &Array) -> Result<Vec<Mismatch>, LayerError> {
    lhs.validate("lhs")?;
    rhs.validate("rhs")?;
    same_shape(lhs, rhs, "rhs").map_err(|e| {
        LayerError::new(
            "rhs",
            format!(
                "cannot compare a {} × {} array with a {} × {} one: {}",
                lhs.rows, lhs.cols, rhs.rows, rhs.cols, e.message
            ),
        )
    })?;
    let mut out = Vec::new();
    for i in 0..lhs.rows {
        for j in 0..lhs.cols {
            let (a, b) = (lhs.at(i, j), rhs.at(i, j));
            if a != b {
                out.push(Mismatch {
                    entry: (i + 1, j + 1),
                    lhs: a.clone(),
                    rhs: b.clone(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(rows: &[&[i64]]) -> Array {
        Array::from_int_rows(rows).unwrap()
    }

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    /// The HW4 input: 5 × 5 with 1..25 row-major.
    fn hw4_x() -> Array {
        Array::from_ints(5, 5, &(1..=25).collect::<Vec<_>>()).unwrap()
    }

    fn sobel() -> Array {
        a(&[&[-1, -2, -1], &[0, 0, 0], &[1, 2, 1]])
    }

    /// Independent reference for zero-padded true convolution, from the textbook
    /// definition: the full convolution z(m, n) = Σ_{p,q} x(p, q) h(m − p, n − q), read off at
    /// m = i·s + K_r − 1 − pad, n = j·s + K_c − 1 − pad. Plain i64, no flipping, no padding.
    fn naive_conv(x: &[Vec<i64>], h: &[Vec<i64>], pad: i64, s: i64) -> Vec<Vec<i64>> {
        let (xr, xc) = (x.len() as i64, x[0].len() as i64);
        let (kr, kc) = (h.len() as i64, h[0].len() as i64);
        let or = (xr + 2 * pad - kr) / s + 1;
        let oc = (xc + 2 * pad - kc) / s + 1;
        let full = |m: i64, n: i64| -> i64 {
            let mut t = 0;
            for p in 0..xr {
                for qq in 0..xc {
                    let (u, v) = (m - p, n - qq);
                    if (0..kr).contains(&u) && (0..kc).contains(&v) {
                        t += x[p as usize][qq as usize] * h[u as usize][v as usize];
                    }
                }
            }
            t
        };
        (0..or)
            .map(|i| {
                (0..oc)
                    .map(|j| full(i * s + kr - 1 - pad, j * s + kc - 1 - pad))
                    .collect()
            })
            .collect()
    }

    /// Independent reference for circular convolution: periodize the kernel and sum over the
    /// whole input, y(i, j) = Σ_{p,q} x(p, q) · Σ{h(a, b) : a ≡ i − p (mod R), b ≡ j − q (mod C)}.
    fn naive_circular(x: &[Vec<i64>], h: &[Vec<i64>]) -> Vec<Vec<i64>> {
        let (r, c) = (x.len(), x[0].len());
        let mut hp = vec![vec![0i64; c]; r];
        for (ai, row) in h.iter().enumerate() {
            for (bi, &v) in row.iter().enumerate() {
                hp[ai % r][bi % c] += v;
            }
        }
        (0..r)
            .map(|i| {
                (0..c)
                    .map(|j| {
                        let mut t = 0;
                        for p in 0..r {
                            for qq in 0..c {
                                t += x[p][qq] * hp[(i + r - p) % r][(j + c - qq) % c];
                            }
                        }
                        t
                    })
                    .collect()
            })
            .collect()
    }

    fn rows_of(x: &Array) -> Vec<Vec<i64>> {
        use num_traits::ToPrimitive;
        (0..x.rows)
            .map(|i| {
                (0..x.cols)
                    .map(|j| {
                        let v = x.get(i, j);
                        assert!(v.is_integer());
                        v.to_integer().to_i64().unwrap()
                    })
                    .collect()
            })
            .collect()
    }

    fn from_vecs(v: &[Vec<i64>]) -> Array {
        let rows: Vec<&[i64]> = v.iter().map(|r| r.as_slice()).collect();
        Array::from_int_rows(&rows).unwrap()
    }

    /// A deterministic pseudo-random integer array (small LCG), entries in -9..=9.
    fn pseudo(rows: usize, cols: usize, seed: u64) -> Vec<Vec<i64>> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..rows)
            .map(|_| {
                (0..cols)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((s >> 33) % 19) as i64 - 9
                    })
                    .collect()
            })
            .collect()
    }

    // ---- HW4 Q3(c), Q3(d) ----

    #[test]
    fn hw4_flip_is_minus_h() {
        assert_eq!(flip(&sobel()), a(&[&[1, 2, 1], &[0, 0, 0], &[-1, -2, -1]]));
        assert_eq!(flip(&sobel()), sobel().scale(&int(-1)));
        // 180-degree rotation of a non-square, asymmetric kernel, written out by hand.
        let k = a(&[&[1, 2, 3], &[4, 5, 6]]);
        assert_eq!(flip(&k), a(&[&[6, 5, 4], &[3, 2, 1]]));
        assert_eq!(flip(&flip(&k)), k);
    }

    #[test]
    fn hw4_q3c_valid_conv_is_all_minus_40() {
        let y = conv2d(&hw4_x(), &sobel(), PadMode::Zero(0), 1).unwrap();
        assert_eq!(y, Array::from_ints(3, 3, &[-40; 9]).unwrap());
    }

    /// The correct pad-1 outputs, worked by hand: flip(h) = [[1,2,1],[0,0,0],[-1,-2,-1]], so
    /// y(i, j) = (row above, weights 1 2 1) − (row below, weights 1 2 1) in the padded input.
    /// Interior output rows: the row below is the row above plus 10 entrywise, so the result
    /// is −10·(1+2+1) = −40 where all three columns exist and −10·(2+1) = −30 at the left and
    /// right edges. Top output row: the row above is padding, so it is −(x's 2nd row
    /// [6..10] weighted): −(2·6+7) = −19, −(6+14+8) = −28, −32, −36, −(9+20) = −29. Bottom
    /// output row: +(x's 4th row [16..20] weighted): 2·16+17 = 49, 16+34+18 = 68, 72, 76, 59.
    fn hw4_pad1_expected() -> Array {
        a(&[
            &[-19, -28, -32, -36, -29],
            &[-30, -40, -40, -40, -30],
            &[-30, -40, -40, -40, -30],
            &[-30, -40, -40, -40, -30],
            &[49, 68, 72, 76, 59],
        ])
    }

    #[test]
    fn hw4_q3d_pad1_stride1() {
        let x = hw4_x();
        let y = conv2d(&x, &sobel(), PadMode::Zero(1), 1).unwrap();
        // The hand-worked values, and the independent full-convolution reference.
        assert_eq!(y, hw4_pad1_expected());
        assert_eq!(
            rows_of(&y),
            naive_conv(&rows_of(&x), &rows_of(&sobel()), 1, 1)
        );
        // The worked entry of the answer: patch [[0,0,0],[0,1,2],[0,6,7]] against flip(h).
        assert_eq!(*y.get(0, 0), int(-19));
        let claimed = a(&[
            &[-19, -29, -39, -49, -31],
            &[-34, -40, -40, -40, -46],
            &[-59, -60, -60, -60, -61],
            &[-84, -80, -80, -80, -74],
            &[-49, -51, -53, -55, -41],
        ]);
        let m = compare(&y, &claimed).unwrap();
        assert_eq!(m.len(), 21);
        // The four right ones are (1,1) and the three interior entries of row 2.
        let right: Vec<(usize, usize)> = (1..=5)
            .flat_map(|i| (1..=5).map(move |j| (i, j)))
            .filter(|e| !m.iter().any(|mm| mm.entry == *e))
            .collect();
        assert_eq!(right, vec![(1, 1), (2, 2), (2, 3), (2, 4)]);
        assert_eq!(
            m[0],
            Mismatch {
                entry: (1, 2),
                lhs: int(-28),
                rhs: int(-29)
            }
        );
    }

    #[test]
    fn hw4_q3d_pad1_stride2() {
        let x = hw4_x();
        let y = conv2d(&x, &sobel(), PadMode::Zero(1), 2).unwrap();
        // Output size ⌊(5 + 2 − 3)/2⌋ + 1 = 3: every other entry of the stride-1 output.
        let expected = a(&[&[-19, -32, -29], &[-30, -40, -30], &[49, 72, 59]]);
        assert_eq!(y, expected);
        assert_eq!(
            rows_of(&y),
            naive_conv(&rows_of(&x), &rows_of(&sobel()), 1, 2)
        );
        let claimed = a(&[&[-19, -39, -31], &[-59, -60, -61], &[-49, -53, -41]]);
        let m = compare(&y, &claimed).unwrap();
        assert_eq!(m.len(), 8);
        assert!(m.iter().all(|mm| mm.entry != (1, 1)));
    }

    // ---- convolution vs correlation ----

    #[test]
    fn correlate_is_conv_with_flipped_kernel() {
        // HW4: flip(h) = −h, so correlation gives +40 where convolution gives −40.
        let y = correlate2d(&hw4_x(), &sobel(), PadMode::Zero(0), 1).unwrap();
        assert_eq!(y, Array::from_ints(3, 3, &[40; 9]).unwrap());
        // A hand-worked asymmetric case: x = [[1,2],[3,4]], h = [[1,0],[0,0]] picks x(i,j) by
        // correlation and x(i+1, j+1) of the flipped kernel by convolution (pad 0 → 1×1).
        let x = a(&[&[1, 2], &[3, 4]]);
        let h = a(&[&[1, 0], &[0, 0]]);
        assert_eq!(
            correlate2d(&x, &h, PadMode::Zero(0), 1).unwrap(),
            a(&[&[1]])
        );
        assert_eq!(conv2d(&x, &h, PadMode::Zero(0), 1).unwrap(), a(&[&[4]]));
        // With pad 1 the convolution with a delta at (0,0) reproduces x in the top-left
        // of a 3×3 output, the correlation in the bottom-right.
        assert_eq!(
            conv2d(&x, &h, PadMode::Zero(1), 1).unwrap(),
            a(&[&[1, 2, 0], &[3, 4, 0], &[0, 0, 0]])
        );
        assert_eq!(
            correlate2d(&x, &h, PadMode::Zero(1), 1).unwrap(),
            a(&[&[0, 0, 0], &[0, 1, 2], &[0, 3, 4]])
        );
        // In general, on random non-square inputs, for several pads and strides.
        for seed in 0..6 {
            let xv = pseudo(4 + seed as usize, 7 - seed as usize % 3, seed);
            let hv = pseudo(2 + seed as usize % 2, 3, seed + 100);
            let (x, h) = (from_vecs(&xv), from_vecs(&hv));
            for pad in 0..3 {
                for s in 1..4 {
                    let c = conv2d(&x, &h, PadMode::Zero(pad), s).unwrap();
                    assert_eq!(rows_of(&c), naive_conv(&xv, &hv, pad as i64, s as i64));
                    assert_eq!(
                        correlate2d(&x, &flip(&h), PadMode::Zero(pad), s).unwrap(),
                        c
                    );
                }
            }
        }
    }

    #[test]
    fn non_square_sizes() {
        // 3 × 5 input, 2 × 3 kernel, pad 1, stride 2: rows ⌊(3+2−2)/2⌋+1 = 2, cols ⌊(5+2−3)/2⌋+1 = 3.
        let xv = pseudo(3, 5, 7);
        let hv = vec![vec![1, -1, 2], vec![0, 3, -2]];
        let y = conv2d(&from_vecs(&xv), &from_vecs(&hv), PadMode::Zero(1), 2).unwrap();
        assert_eq!((y.rows, y.cols), (2, 3));
        assert_eq!(rows_of(&y), naive_conv(&xv, &hv, 1, 2));
    }

    // ---- circular mode ----

    #[test]
    fn circular_conv_by_hand_and_reference() {
        // x = [[1,2,3],[4,5,6]] (2 × 3), h = [[0,1]]: y(i, j) = x(i, j − 1 mod 3).
        let x = a(&[&[1, 2, 3], &[4, 5, 6]]);
        let h = a(&[&[0, 1]]);
        assert_eq!(
            conv2d(&x, &h, PadMode::Circular, 1).unwrap(),
            a(&[&[3, 1, 2], &[6, 4, 5]])
        );
        // Correlation goes the other way: y(i, j) = x(i, j + 1 mod 3).
        assert_eq!(
            correlate2d(&x, &h, PadMode::Circular, 1).unwrap(),
            a(&[&[2, 3, 1], &[5, 6, 4]])
        );
        for seed in 0..5 {
            let xv = pseudo(8, 5 + seed as usize, seed);
            let hv = pseudo(2 + seed as usize, 3, seed + 50); // up to 6 × 3
            let y = conv2d(&from_vecs(&xv), &from_vecs(&hv), PadMode::Circular, 1).unwrap();
            assert_eq!(rows_of(&y), naive_circular(&xv, &hv));
        }
        // A kernel taller than the input wraps around more than once.
        let xv = pseudo(2, 3, 9);
        let hv = pseudo(5, 4, 10);
        let y = conv2d(&from_vecs(&xv), &from_vecs(&hv), PadMode::Circular, 1).unwrap();
        assert_eq!(rows_of(&y), naive_circular(&xv, &hv));
    }

    #[test]
    fn circular_correlate_is_shifted_conv_with_flip() {
        let xv = pseudo(5, 6, 3);
        let hv = pseudo(3, 2, 4);
        let (x, h) = (from_vecs(&xv), from_vecs(&hv));
        let c = correlate2d(&x, &h, PadMode::Circular, 1).unwrap();
        let f = conv2d(&x, &flip(&h), PadMode::Circular, 1).unwrap();
        // conv(x, flip h)(i, j) = corr(x, h)(i − 2, j − 1) (mod sizes).
        for i in 0..5 {
            for j in 0..6 {
                assert_eq!(f.get(i, j), c.get((i + 5 - 2) % 5, (j + 6 - 1) % 6));
            }
        }
    }

    #[test]
    fn roll_by_hand() {
        let x = a(&[&[1, 2, 3], &[4, 5, 6]]);
        assert_eq!(roll(&x, 0, 1).unwrap(), a(&[&[3, 1, 2], &[6, 4, 5]]));
        assert_eq!(roll(&x, 1, 0).unwrap(), a(&[&[4, 5, 6], &[1, 2, 3]]));
        assert_eq!(roll(&x, 3, 5).unwrap(), a(&[&[5, 6, 4], &[2, 3, 1]]));
    }

    #[test]
    fn circular_conv_is_shift_equivariant_and_gap_invariant() {
        // HW4 Q4(f): CONV2 (circular) → ReLU → CONV2 → ReLU → GAP on an 8 × 8 input.
        let x = from_vecs(&pseudo(8, 8, 11));
        let h1 = from_vecs(&pseudo(2, 2, 12));
        let h2 = from_vecs(&pseudo(2, 2, 13));
        let net = |x: &Array| -> BigRational {
            let y1 = relu(&conv2d(x, &h1, PadMode::Circular, 1).unwrap());
            let y2 = relu(&conv2d(&y1, &h2, PadMode::Circular, 1).unwrap());
            global_avg_pool(&y2)
        };
        let base = conv2d(&x, &h1, PadMode::Circular, 1).unwrap();
        let g = net(&x);
        assert!(
            g > BigRational::zero(),
            "the test network must not be trivially zero"
        );
        for (dr, dc) in [(1, 0), (0, 3), (5, 7), (4, 4)] {
            let xs = roll(&x, dr, dc).unwrap();
            let ys = conv2d(&xs, &h1, PadMode::Circular, 1).unwrap();
            assert_eq!(ys, roll(&base, dr, dc).unwrap());
            assert_ne!(xs, x);
            assert_eq!(net(&xs), g);
        }
        // Zero padding is not shift equivariant: the wrapped-around entries differ.
        let z = conv2d(&x, &h1, PadMode::Zero(0), 1).unwrap();
        let zs = conv2d(&roll(&x, 1, 1).unwrap(), &h1, PadMode::Zero(0), 1).unwrap();
        assert_ne!(global_avg_pool(&z), global_avg_pool(&zs));
    }

    // ---- 1-D convolution (HW4 Q3a) ----

    #[test]
    fn conv1d_small_by_hand() {
        // [1,2,3] * [1,1] full convolution (pad 1) = [1,3,5,3].
        let x = Array::from_ints(3, 1, &[1, 2, 3]).unwrap();
        let h = Array::from_ints(2, 1, &[1, 1]).unwrap();
        assert_eq!(
            conv1d(&x, &h, 1, 1).unwrap(),
            Array::from_ints(4, 1, &[1, 3, 5, 3]).unwrap()
        );
        // The flip matters: [1,2,3] * [1,0] (pad 0) slides flip(h) = [0,1], giving [x(1), x(2)] = [2, 3].
        let h2 = Array::from_ints(2, 1, &[1, 0]).unwrap();
        assert_eq!(
            conv1d(&x, &h2, 0, 1).unwrap(),
            Array::from_ints(2, 1, &[2, 3]).unwrap()
        );
        // Row vectors give rows; stride 2 over the full convolution keeps y(0), y(2).
        let xr = Array::from_ints(1, 3, &[1, 2, 3]).unwrap();
        assert_eq!(
            conv1d(&xr, &h, 1, 2).unwrap(),
            Array::from_ints(1, 2, &[1, 5]).unwrap()
        );
    }

    #[test]
    fn conv1d_reproduces_hw4_q3a() {
        // x = 1 on 0..=6, h(n) = (1/2)^n on 0..=12; with pad 12 the output is the full
        // convolution y(0..=18), exact for n ≤ 12 (the truncated h(13..) never enters).
        let x = Array::column(vec![int(1); 7]).unwrap();
        let hv: Vec<BigRational> = (0..13).map(|n| q(1, 1 << n)).collect();
        let h = Array::column(hv).unwrap();
        let y = conv1d(&x, &h, 12, 1).unwrap();
        assert_eq!((y.rows, y.cols), (19, 1));
        for n in 0..=6i64 {
            // 2 (1 − (1/2)^(n+1))
            assert_eq!(*y.get(n as usize, 0), q(2, 1) - q(2, 1 << (n + 1)));
        }
        for n in 7..=12i64 {
            // (254/128) · 2^−(n−6)
            assert_eq!(*y.get(n as usize, 0), q(254, 128 << (n - 6)));
        }
        assert_eq!(*y.get(7, 0), q(127, 128));
        assert_eq!(*y.get(8, 0), q(49609375, 100000000));
    }

    // ---- pooling ----

    #[test]
    fn pooling_shapes_and_values() {
        let x = Array::from_ints(4, 4, &(1..=16).collect::<Vec<_>>()).unwrap();
        assert_eq!(maxpool2d(&x, 2, 2).unwrap(), a(&[&[6, 8], &[14, 16]]));
        // Means of {1,2,5,6} = 7/2, {3,4,7,8} = 11/2, ...
        assert_eq!(
            avgpool2d(&x, 2, 2).unwrap(),
            Array::new(2, 2, vec![q(7, 2), q(11, 2), q(23, 2), q(27, 2)]).unwrap()
        );
        // Overlapping windows: 3 × 3 output.
        assert_eq!(
            maxpool2d(&x, 2, 1).unwrap(),
            a(&[&[6, 7, 8], &[10, 11, 12], &[14, 15, 16]])
        );
        // Non-square, leftover rows/cols dropped: 5 × 7, size 2, stride 2 → 2 × 3.
        let y = maxpool2d(&from_vecs(&pseudo(5, 7, 1)), 2, 2).unwrap();
        assert_eq!((y.rows, y.cols), (2, 3));
        // Q4(e): 28×28 → POOL2 → 14×14 → POOL2 → 7×7.
        let big = Array::zeros(28, 28).unwrap();
        let p1 = maxpool2d(&big, 2, 2).unwrap();
        let p2 = maxpool2d(&p1, 2, 2).unwrap();
        assert_eq!((p1.rows, p1.cols, p2.rows, p2.cols), (14, 14, 7, 7));
        assert_eq!(flatten(&p2).rows, 49);
        // Negative maxima are kept.
        assert_eq!(
            maxpool2d(&a(&[&[-3, -1], &[-2, -5]]), 2, 2).unwrap(),
            a(&[&[-1]])
        );
    }

    #[test]
    fn relu_flatten_gap() {
        let x = a(&[&[-2, 3], &[0, -7]]);
        assert_eq!(relu(&x), a(&[&[0, 3], &[0, 0]]));
        assert_eq!(
            flatten(&x),
            Array::from_ints(4, 1, &[-2, 3, 0, -7]).unwrap()
        );
        assert_eq!(global_avg_pool(&x), q(-6, 4));
    }

    // ---- Array basics ----

    #[test]
    fn array_basics() {
        let m = a(&[&[1, 2, 3], &[4, 5, 6]]);
        assert_eq!(m.transpose(), a(&[&[1, 4], &[2, 5], &[3, 6]]));
        assert_eq!(
            m.matmul(&m.transpose()).unwrap(),
            a(&[&[14, 32], &[32, 77]])
        );
        assert_eq!(m.scale(&q(1, 2)).get(1, 1), &q(5, 2));
        assert_eq!(
            m.zip_with(&m, |x, y| x * y).unwrap(),
            a(&[&[1, 4, 9], &[16, 25, 36]])
        );
        assert_eq!(m.to_string(), "[[1, 2, 3], [4, 5, 6]]");
        assert_eq!(m.try_get(1, 2).unwrap(), &int(6));
        assert_eq!(m.try_get(2, 0).unwrap_err().argument, "i");
        assert_eq!(m.try_get(0, 3).unwrap_err().argument, "j");
    }

    // ---- errors name the argument ----

    // ---- no panics from any input ----

    fn arb_array() -> impl proptest::strategy::Strategy<Value = Array> {
        use proptest::prelude::*;
        (
            0usize..6,
            0usize..6,
            proptest::collection::vec(-4i64..5, 0..40),
        )
            .prop_map(|(rows, cols, v)| {
                // Mostly consistent arrays, sometimes hand-built inconsistent ones.
                let want = rows * cols;
                let data: Vec<BigRational> = if v.len() % 5 == 0 {
                    v.iter().map(|&k| int(k)).collect()
                } else {
                    (0..want)
                        .map(|k| int(v.get(k).copied().unwrap_or(1)))
                        .collect()
                };
                Array { rows, cols, data }
            })
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(
            x in arb_array(),
            h in arb_array(),
            pad in 0usize..4,
            stride in 0usize..4,
            size in 0usize..7,
            circ in proptest::bool::ANY,
        ) {
            let mode = if circ { PadMode::Circular } else { PadMode::Zero(pad) };
            let _ = conv2d(&x, &h, mode, stride);
            let _ = correlate2d(&x, &h, mode, stride);
            let _ = conv1d(&x, &h, pad, stride);
            let _ = maxpool2d(&x, size, stride);
            let _ = avgpool2d(&x, size, stride);
            let _ = compare(&x, &h);
            let _ = x.matmul(&h);
            let _ = x.zip_with(&h, |a, b| a + b);
            let _ = roll(&x, pad, stride);
            let _ = (flip(&x), relu(&x), flatten(&x), x.transpose(), global_avg_pool(&x));
            let _ = x.to_string();
            let _ = x.try_get(pad, stride);
            // On valid inputs the zero-padded output has the documented size.
            if let (true, true, PadMode::Zero(p), true) = (x.is_valid(), h.is_valid(), mode, stride > 0) {
                if let Ok(y) = conv2d(&x, &h, mode, stride) {
                    proptest::prop_assert_eq!(y.rows, (x.rows + 2 * p - h.rows) / stride + 1);
                    proptest::prop_assert_eq!(y.cols, (x.cols + 2 * p - h.cols) / stride + 1);
                } else {
                    proptest::prop_assert!(h.rows > x.rows + 2 * p || h.cols > x.cols + 2 * p);
                }
            }
        }
    }
}
