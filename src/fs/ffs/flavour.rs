//! What NetBSD and FreeBSD disagree on in an otherwise shared format:
//! device-number encoding in `di_rdev`, defaults (`minfree`,
//! `maxcontig`) and which `fs_flags` bits a feature uses.

/// Which system's conventions the file system follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    NetBsd,
    FreeBsd,
}

impl Flavour {
    /// `di_rdev` (`di_db[0]`) for device `major`, `minor`: NetBSD's 32-bit
    /// `makedev`, FreeBSD's 64-bit one.
    pub fn encode_rdev(self, major: u32, minor: u32) -> u64 {
        let (maj, min) = (u64::from(major), u64::from(minor));
        match self {
            Flavour::NetBsd => {
                ((maj << 8) & 0x000f_ff00) | (min & 0xff) | ((min << 12) & 0xfff0_0000)
            }
            Flavour::FreeBsd => {
                ((maj & 0xffff_ff00) << 32)
                    | ((maj & 0xff) << 8)
                    | ((min & 0xff00) << 24)
                    | (min & 0xffff_00ff)
            }
        }
    }

    /// Inverse of [`Flavour::encode_rdev`]: (major, minor).
    pub fn decode_rdev(self, rdev: u64) -> (u32, u32) {
        match self {
            Flavour::NetBsd => (
                ((rdev & 0x000f_ff00) >> 8) as u32,
                ((rdev & 0xff) | ((rdev & 0xfff0_0000) >> 12)) as u32,
            ),
            Flavour::FreeBsd => (
                (((rdev >> 32) & 0xffff_ff00) | ((rdev >> 8) & 0xff)) as u32,
                (((rdev >> 24) & 0xff00) | (rdev & 0xffff_00ff)) as u32,
            ),
        }
    }

    /// newfs's default `minfree` percentage.
    pub fn default_minfree(self) -> u8 {
        match self {
            Flavour::NetBsd => 5,
            Flavour::FreeBsd => 8,
        }
    }

    /// newfs's default `maxcontig`: one maximal transfer (`MAXPHYS`, 64 KiB
    /// on NetBSD, 1 MiB on FreeBSD) in blocks.
    pub fn default_maxcontig(self, bsize: u32) -> u32 {
        let maxphys: u32 = match self {
            Flavour::NetBsd => 64 * 1024,
            Flavour::FreeBsd => 1024 * 1024,
        };
        (maxphys / bsize).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_round_trip_in_both_encodings() {
        for f in [Flavour::NetBsd, Flavour::FreeBsd] {
            for (maj, min) in [(0, 0), (2, 2), (14, 0x12345), (255, 0xfffff)] {
                assert_eq!(f.decode_rdev(f.encode_rdev(maj, min)), (maj, min), "{f:?}");
            }
        }
        // NetBSD's makedev(3, 1) is 0x301; FreeBSD's 64-bit form agrees
        // for small numbers.
        assert_eq!(Flavour::NetBsd.encode_rdev(3, 1), 0x301);
        assert_eq!(Flavour::FreeBsd.encode_rdev(3, 1), 0x301);
        assert_eq!(
            Flavour::FreeBsd.encode_rdev(0x100, 0x10000),
            0x0100_0001_0000
        );
    }
}
