//! installboot's i386 rules applied to a synthetic bootxx: what is copied,
//! what is kept, what is patched, and what is refused.

use mkimage::boot::x86_bootxx::{
    BOOT_AREA_SIZE, BootCodeError, BootParams, ConsDev, X86_BOOT_MAGIC_1, check_bootxx,
    check_mbr_bootcode, install_bootxx,
};

const BP: usize = 1032; // struct x86_boot_params: after the magic at 1028

/// A bootxx-shaped image of `len` bytes: `EB 3C 90`, code bytes
/// everywhere except the MBR partition table area and the label sector,
/// 0x55AA at 510, X86_BOOT_MAGIC_1 at 1028 and a parameter block of
/// `bp_length` bytes (timeout 5, pc console, 9600) followed by more code.
fn synthetic_bootxx(len: usize, bp_length: u32) -> Vec<u8> {
    let mut b: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 1).collect();
    b[0] = 0xeb;
    b[1] = 0x3c;
    b[2] = 0x90;
    b[446..510].fill(0);
    b[510] = 0x55;
    b[511] = 0xaa;
    b[512..1024].fill(0);
    b[1028..1032].copy_from_slice(&X86_BOOT_MAGIC_1.to_le_bytes());
    let mut bp = [0u8; 104];
    bp[0..4].copy_from_slice(&bp_length.to_le_bytes());
    bp[8..12].copy_from_slice(&5u32.to_le_bytes());
    bp[12..16].copy_from_slice(&0u32.to_le_bytes());
    bp[16..20].copy_from_slice(&9600u32.to_le_bytes());
    let n = (bp_length as usize).min(104);
    b[BP..BP + n].copy_from_slice(&bp[..n]);
    b
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn serial(timeout: u32) -> BootParams {
    BootParams {
        console: Some(ConsDev::Com(0)),
        speed: Some(115200),
        timeout: Some(timeout),
        ..BootParams::default()
    }
}

#[test]
fn mbr_boot_code_must_be_exactly_440_bytes() {
    let code: Vec<u8> = (0..440).map(|i| i as u8).collect();
    assert_eq!(check_mbr_bootcode(&code).unwrap().to_vec(), code);
    for n in [0, 439, 441, 512] {
        assert_eq!(
            check_mbr_bootcode(&vec![0; n]),
            Err(BootCodeError::MbrSize(n))
        );
    }
}

#[test]
fn bootxx_on_a_fresh_partition_is_copied_except_the_label_sector() {
    let bootxx = synthetic_bootxx(7000, 104);
    let existing = vec![0u8; BOOT_AREA_SIZE];
    let out = install_bootxx(&existing, &bootxx, &serial(1)).unwrap();
    assert_eq!(out.len(), 8192);
    assert_eq!(out[..446], bootxx[..446]);
    assert!(out[446..510].iter().all(|&b| b == 0));
    assert_eq!(out[510..512], [0x55, 0xaa]);
    assert!(
        out[512..1024].iter().all(|&b| b == 0),
        "label sector comes from the disk"
    );
    assert_eq!(out[1024..BP], bootxx[1024..BP]);
    // Past the parameter block the code is unchanged ...
    assert_eq!(out[BP + 104..7000], bootxx[BP + 104..7000]);
    // ... and padded with zeros to the end (the disk held zeros).
    assert!(out[7000..].iter().all(|&b| b == 0));
}

#[test]
fn parameter_block_gets_console_speed_and_timeout() {
    let bootxx = synthetic_bootxx(1536 * 2, 104);
    let out = install_bootxx(&[0; 8192], &bootxx, &serial(3)).unwrap();
    assert_eq!(u32_at(&out, 1028), 0x7886b6d1);
    assert_eq!(u32_at(&out, BP), 104, "bp_length");
    assert_eq!(u32_at(&out, BP + 4), 0, "bp_flags");
    assert_eq!(u32_at(&out, BP + 8), 3, "bp_timeout");
    assert_eq!(u32_at(&out, BP + 12), 1, "bp_consdev com0");
    assert_eq!(u32_at(&out, BP + 16), 115200, "bp_conspeed");
    assert!(
        out[BP + 20..BP + 104].iter().all(|&b| b == 0),
        "password, keymap, consaddr untouched"
    );
}

#[test]
fn unset_parameters_keep_the_values_the_boot_code_was_built_with() {
    let bootxx = synthetic_bootxx(4096, 104);
    let params = BootParams {
        timeout: Some(0),
        ..BootParams::default()
    };
    let out = install_bootxx(&[0; 8192], &bootxx, &params).unwrap();
    assert_eq!(u32_at(&out, BP + 8), 0);
    assert_eq!(u32_at(&out, BP + 12), 0, "console stays pc");
    assert_eq!(u32_at(&out, BP + 16), 9600, "speed stays 9600");
}

#[test]
fn only_bp_length_bytes_are_patched() {
    // A boot block built with a 20-byte parameter area: code follows it.
    let bootxx = synthetic_bootxx(4096, 20);
    let out = install_bootxx(&[0; 8192], &bootxx, &serial(0)).unwrap();
    assert_eq!(u32_at(&out, BP + 16), 115200);
    assert_eq!(
        out[BP + 20..BP + 104],
        bootxx[BP + 20..BP + 104],
        "code after the area untouched"
    );
}

#[test]
fn a_setting_beyond_bp_length_is_refused() {
    let bootxx = synthetic_bootxx(4096, 16);
    let err = install_bootxx(&[0; 8192], &bootxx, &serial(0)).unwrap_err();
    assert_eq!(err, BootCodeError::PatchAreaTooSmall { have: 16 });
    // Without the speed it fits.
    let params = BootParams {
        console: Some(ConsDev::Com(0)),
        timeout: Some(0),
        ..BootParams::default()
    };
    install_bootxx(&[0; 8192], &bootxx, &params).unwrap();
}

#[test]
fn existing_partition_table_and_label_are_kept_when_sector_0_is_signed() {
    let bootxx = synthetic_bootxx(3000, 104);
    let mut existing: Vec<u8> = (0..8192).map(|i| (i % 7) as u8 + 0x40).collect();
    existing[0..3].copy_from_slice(&[0xeb, 0x02, 0x90]); // no BPB to carry
    existing[510] = 0x55;
    existing[511] = 0xaa;
    let out = install_bootxx(&existing, &bootxx, &serial(0)).unwrap();
    assert_eq!(
        out[446..510],
        existing[446..510],
        "MBR partition table area kept"
    );
    assert_eq!(out[512..1024], existing[512..1024], "label sector kept");
    assert_eq!(out[..446], bootxx[..446]);
    assert!(
        out[3000..3072].iter().all(|&b| b == 0),
        "padding to the sector"
    );
    assert_eq!(
        out[3072..],
        existing[3072..],
        "bytes after the boot code kept"
    );
}

#[test]
fn unsigned_sector_0_counts_as_zeros() {
    let bootxx = synthetic_bootxx(3000, 104);
    let mut existing = vec![0x11u8; 8192];
    existing[0] = 0; // no jump, no 0x55AA
    let out = install_bootxx(&existing, &bootxx, &serial(0)).unwrap();
    assert!(out[446..510].iter().all(|&b| b == 0));
    assert_eq!(
        out[512..1024],
        existing[512..1024],
        "label sector is still never written"
    );
}

#[test]
fn an_existing_bpb_is_refused_not_destroyed() {
    let bootxx = synthetic_bootxx(3000, 104);
    let mut existing = vec![0u8; 8192];
    existing[0..3].copy_from_slice(&[0xeb, 0x3c, 0x90]);
    existing[11..13].copy_from_slice(&512u16.to_le_bytes()); // bytes per sector
    existing[510] = 0x55;
    existing[511] = 0xaa;
    assert_eq!(
        install_bootxx(&existing, &bootxx, &serial(0)),
        Err(BootCodeError::ExistingBpb)
    );
}

#[test]
fn bad_boot_code_is_refused_with_the_reason() {
    let good = synthetic_bootxx(4096, 104);
    assert_eq!(check_bootxx(&good), Ok(104));

    assert_eq!(
        check_bootxx(&vec![0; 8193]),
        Err(BootCodeError::TooBig(8193))
    );
    assert_eq!(
        check_bootxx(&good[..1535]),
        Err(BootCodeError::TooSmall(1535))
    );

    let mut jump = good.clone();
    jump[0] = 0xe9;
    assert_eq!(
        check_bootxx(&jump),
        Err(BootCodeError::BadJump(0xe9, 0x3c, 0x90))
    );

    let mut magic = good.clone();
    magic[1028] ^= 0xff;
    assert!(matches!(
        check_bootxx(&magic),
        Err(BootCodeError::NoMagic { .. })
    ));

    let mut table = good.clone();
    table[460] = 1;
    assert_eq!(
        check_bootxx(&table),
        Err(BootCodeError::DataInPartitionTable(460))
    );

    let mut label = good.clone();
    label[700] = 1;
    assert_eq!(
        check_bootxx(&label),
        Err(BootCodeError::DataInLabelSector(700))
    );

    assert_eq!(
        install_bootxx(&[0; 4096], &good, &BootParams::default()),
        Err(BootCodeError::AreaSize(4096))
    );
    // The error text names the problem for a person.
    assert!(
        BootCodeError::NoMagic { found: 0 }
            .to_string()
            .contains("X86_BOOT_MAGIC_1")
    );
}

#[test]
fn keymap_is_written_nul_terminated_and_long_names_are_refused() {
    let bootxx = synthetic_bootxx(4096, 104);
    let params = BootParams {
        keymap: Some("de".into()),
        ..BootParams::default()
    };
    let out = install_bootxx(&[0; 8192], &bootxx, &params).unwrap();
    assert_eq!(&out[BP + 36..BP + 39], b"de\0");
    let params = BootParams {
        keymap: Some("x".repeat(64)),
        ..BootParams::default()
    };
    assert!(matches!(
        install_bootxx(&[0; 8192], &bootxx, &params),
        Err(BootCodeError::KeymapTooLong(_))
    ));
}
