//! Where the bucket engine reads its points from, without copying bases.
//!
//! Inputs are referenced by 32-bit *refs*: `index << 1 | negate`. Reading
//! through a ref costs one extra load, but spares gathering (and paging in)
//! a copy of every base per path.

use ark_ec::short_weierstrass::{Affine, SWCurveConfig};

/// A reference to an input point: `index << 1 | negate`.
pub(crate) type Ref = u32;

/// Builds a ref; `index` must be below 2^31 (checked by the caller once).
#[inline(always)]
pub(crate) fn make_ref(index: usize, negate: bool) -> Ref {
    (index as u32) << 1 | u32::from(negate)
}

/// Largest number of inputs refs can address.
pub(crate) const MAX_INPUTS: usize = 1 << 31;

/// An indexed list of points. `get` applies the item's sign; no item is the
/// identity.
pub(crate) trait PointSource<P: SWCurveConfig>: Sync {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> Affine<P>;

    /// Item `r >> 1`, negated once more if the low bit of `r` is set.
    #[inline(always)]
    fn get_ref(&self, r: Ref) -> Affine<P> {
        let p = self.get((r >> 1) as usize);
        if r & 1 == 1 { -p } else { p }
    }
}

/// Item `i` is `bases[refs[i] >> 1]`, negated if `refs[i] & 1`.
pub(crate) struct Indexed<'a, P: SWCurveConfig> {
    pub(crate) bases: &'a [Affine<P>],
    pub(crate) refs: &'a [Ref],
}

impl<P: SWCurveConfig> PointSource<P> for Indexed<'_, P> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.refs.len()
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Affine<P> {
        let r = self.refs[i];
        let p = self.bases[(r >> 1) as usize];
        if r & 1 == 1 { -p } else { p }
    }
}

/// GLV items: item `2j` is `±bases[refs[j] >> 1]` and item `2j + 1` is
/// `endo[j]` (the endomorphism image, already signed).
pub(crate) struct Glv<'a, P: SWCurveConfig> {
    pub(crate) bases: &'a [Affine<P>],
    pub(crate) refs: &'a [Ref],
    pub(crate) endo: &'a [Affine<P>],
}

impl<P: SWCurveConfig> PointSource<P> for Glv<'_, P> {
    #[inline(always)]
    fn len(&self) -> usize {
        2 * self.refs.len()
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Affine<P> {
        if i & 1 == 1 {
            self.endo[i >> 1]
        } else {
            let r = self.refs[i >> 1];
            let p = self.bases[(r >> 1) as usize];
            if r & 1 == 1 { -p } else { p }
        }
    }
}

/// Plain slice of already-signed points (tests and small helpers).
impl<P: SWCurveConfig> PointSource<P> for [Affine<P>] {
    #[inline(always)]
    fn len(&self) -> usize {
        <[Affine<P>]>::len(self)
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Affine<P> {
        self[i]
    }
}
