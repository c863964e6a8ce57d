//! eyeball-im's `VectorDiff` as the core's list updates ([`RoomListUpdate`],
//! [`TimelineUpdate`]): one mapping for every live list.

use eyeball_im::VectorDiff;

use crate::api::{RoomListUpdate, RoomSummary, TimelineItem, TimelineUpdate};

/// An exported list update: one constructor for each kind of `VectorDiff`.
pub(crate) trait ListUpdate: Sized {
    /// One row of the list, as the app gets it.
    type Value;
    fn append(values: Vec<Self::Value>) -> Self;
    fn clear() -> Self;
    fn push_front(value: Self::Value) -> Self;
    fn push_back(value: Self::Value) -> Self;
    fn pop_front() -> Self;
    fn pop_back() -> Self;
    fn insert(index: u32, value: Self::Value) -> Self;
    fn set(index: u32, value: Self::Value) -> Self;
    fn remove(index: u32) -> Self;
    fn truncate(length: u32) -> Self;
    fn reset(values: Vec<Self::Value>) -> Self;
}

/// Implements [`ListUpdate`] for an exported update enum whose variants
/// are `VectorDiff`'s, with `u32` indexes.
macro_rules! list_update {
    ($update:ty, $value:ty) => {
        impl ListUpdate for $update {
            type Value = $value;
            fn append(values: Vec<$value>) -> Self {
                Self::Append { values }
            }
            fn clear() -> Self {
                Self::Clear
            }
            fn push_front(value: $value) -> Self {
                Self::PushFront { value }
            }
            fn push_back(value: $value) -> Self {
                Self::PushBack { value }
            }
            fn pop_front() -> Self {
                Self::PopFront
            }
            fn pop_back() -> Self {
                Self::PopBack
            }
            fn insert(index: u32, value: $value) -> Self {
                Self::Insert { index, value }
            }
            fn set(index: u32, value: $value) -> Self {
                Self::Set { index, value }
            }
            fn remove(index: u32) -> Self {
                Self::Remove { index }
            }
            fn truncate(length: u32) -> Self {
                Self::Truncate { length }
            }
            fn reset(values: Vec<$value>) -> Self {
                Self::Reset { values }
            }
        }
    };
}

list_update!(RoomListUpdate, RoomSummary);
list_update!(TimelineUpdate, TimelineItem);

/// An index or length as the app gets it (`u32::MAX` past it).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// One diff as the core's update, each row mapped by `one`.
pub(crate) fn map_diff<T, U: ListUpdate>(diff: VectorDiff<T>, one: impl Fn(&T) -> U::Value) -> U {
    let many = |values: imbl::Vector<T>| values.iter().map(&one).collect();
    match diff {
        VectorDiff::Append { values } => U::append(many(values)),
        VectorDiff::Clear => U::clear(),
        VectorDiff::PushFront { value } => U::push_front(one(&value)),
        VectorDiff::PushBack { value } => U::push_back(one(&value)),
        VectorDiff::PopFront => U::pop_front(),
        VectorDiff::PopBack => U::pop_back(),
        VectorDiff::Insert { index: i, value } => U::insert(index(i), one(&value)),
        VectorDiff::Set { index: i, value } => U::set(index(i), one(&value)),
        VectorDiff::Remove { index: i } => U::remove(index(i)),
        VectorDiff::Truncate { length } => U::truncate(index(length)),
        VectorDiff::Reset { values } => U::reset(many(values)),
    }
}

/// The whole list `current` as one `Reset`, each row mapped by `one`.
pub(crate) fn reset<T, U: ListUpdate>(
    current: &imbl::Vector<T>,
    one: impl Fn(&T) -> U::Value,
) -> U {
    U::reset(current.iter().map(one).collect())
}

/// Applies a batch of diffs to `current`, the list as the listener will see
/// it once its queue ran (eyeball-im's `VectorDiff::apply`; `imbl` shares
/// what did not change), and returns what to send: the diffs mapped by
/// `one`, or one `Reset` of the whole list if `lagging()` says the listener
/// is far behind.
pub(crate) fn follow<T: Clone, U: ListUpdate>(
    diffs: Vec<VectorDiff<T>>,
    current: &mut imbl::Vector<T>,
    lagging: impl FnOnce() -> bool,
    one: impl Fn(&T) -> U::Value,
) -> Vec<U> {
    for diff in &diffs {
        diff.clone().apply(current);
    }
    if lagging() {
        vec![reset(current, one)]
    } else {
        diffs.into_iter().map(|d| map_diff(d, &one)).collect()
    }
}
