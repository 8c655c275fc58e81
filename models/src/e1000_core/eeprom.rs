//! The EEPROM image and the EERD read interface (facts §1.4): START bit 0, DONE bit 1, word
//! address bits 15:2, data bits 31:16. Both chips use this layout; each model brings the image
//! QEMU presents (its NVM template) and how many words the EERD interface addresses.

use super::regs::{EERD_ADDR_MASK, EERD_ADDR_SHIFT, EERD_DATA_SHIFT, EERD_DONE, EERD_START};

/// The words the checksum covers (0..=0x3F).
pub const EEPROM_WORDS: usize = 64;
/// The EEPROM checksum word (sum of words 0..=0x3F equals [`EEPROM_SUM`]).
pub const EEPROM_CHECKSUM_WORD: usize = 0x3F;
/// Required EEPROM sum.
pub const EEPROM_SUM: u16 = 0xBABA;
/// EEPROM word holding the device ID.
pub const EEPROM_DEVICE_ID_WORD: usize = 11;
/// EEPROM word holding the device ID (second copy).
pub const EEPROM_DEVICE_ID_WORD2: usize = 13;

/// `template` with the MAC address in words 0-2, the device ID in words 11 and 13 and a valid
/// checksum in word 0x3F.
pub fn image<const N: usize>(template: &[u16; N], mac: [u8; 6], device_id: u16) -> [u16; N] {
    let mut eeprom = *template;
    for (i, w) in eeprom.iter_mut().take(3).enumerate() {
        *w = u16::from_le_bytes([mac[2 * i], mac[2 * i + 1]]);
    }
    eeprom[EEPROM_DEVICE_ID_WORD] = device_id;
    eeprom[EEPROM_DEVICE_ID_WORD2] = device_id;
    eeprom[EEPROM_CHECKSUM_WORD] = checksum(&eeprom);
    eeprom
}

/// The word that makes the sum of words 0..=0x3F [`EEPROM_SUM`].
pub fn checksum(eeprom: &[u16]) -> u16 {
    let sum = eeprom[..EEPROM_CHECKSUM_WORD]
        .iter()
        .fold(0u16, |s, &w| s.wrapping_add(w));
    EEPROM_SUM.wrapping_sub(sum)
}

/// The permanent MAC address of an image (words 0-2, little-endian pairs).
pub fn mac(eeprom: &[u16]) -> [u8; 6] {
    let mut mac = [0u8; 6];
    for i in 0..3 {
        mac[2 * i..2 * i + 2].copy_from_slice(&eeprom[i].to_le_bytes());
    }
    mac
}

/// The EERD value after the guest writes `value` (QEMU): with START, a word below `size` is
/// read (DONE set; words past the image read 0); otherwise only the address field is kept.
pub fn eerd(eeprom: &[u16], size: usize, value: u32) -> u32 {
    let addr = (value >> EERD_ADDR_SHIFT) & EERD_ADDR_MASK;
    if value & EERD_START != 0 && (addr as usize) < size {
        let word = eeprom.get(addr as usize).copied().unwrap_or(0);
        u32::from(word) << EERD_DATA_SHIFT | addr << EERD_ADDR_SHIFT | EERD_DONE
    } else {
        addr << EERD_ADDR_SHIFT
    }
}
