//! A delivery's receipt is its message and its subscription in one number:
//! the message's seq in the high bits, the subscription's number (given by
//! [`super::Store::numbers`]) in the low [`SUBSCRIPTION_BITS`].
//!
//! One delivery per message and subscription, so the pair is unique, and
//! the local store needs no column (nor index) for either: "the deliveries
//! of message m" is the receipt range [`deliveries_of`], and receipts
//! still grow in publish order. 16 bits leave 2^47 messages (44 years at
//! 100,000 a second) and 65,535 subscription names per store.

/// The receipt's low bits: the subscription's number.
pub const SUBSCRIPTION_BITS: u32 = 16;

/// The most subscriptions a store can number (0 is never given).
pub const MAX_SUBSCRIPTIONS: u16 = u16::MAX;

/// The receipt of message `seq`'s delivery to subscription `number`.
pub fn receipt(seq: u64, number: u16) -> u64 {
    (seq << SUBSCRIPTION_BITS) | u64::from(number)
}

/// The seq of the message a receipt delivers.
pub fn seq(receipt: u64) -> u64 {
    receipt >> SUBSCRIPTION_BITS
}

/// The number of the subscription a receipt delivers to.
pub fn number(receipt: u64) -> u16 {
    (receipt & u64::from(MAX_SUBSCRIPTIONS)) as u16
}

/// Every receipt message `seq` can have deliveries under.
pub fn deliveries_of(seq: u64) -> std::ops::Range<u64> {
    receipt(seq, 0)..receipt(seq + 1, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_gives_back_its_message_and_subscription_and_grows_with_the_message() {
        let r = receipt(123_456, 7);
        assert_eq!((seq(r), number(r)), (123_456, 7));
        assert!(receipt(2, 1) > receipt(1, MAX_SUBSCRIPTIONS));
        assert!(deliveries_of(5).contains(&receipt(5, MAX_SUBSCRIPTIONS)));
        assert!(!deliveries_of(5).contains(&receipt(6, 0)));
    }
}
