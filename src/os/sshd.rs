//! Editing an `sshd_config(5)` that a release ships: set keywords to
//! values while keeping everything else (comments, defaults, `Match`
//! blocks). The same for every OS; each personality picks the settings.

/// `set_text` with each `(keyword, value)` of `wanted` set. sshd takes the
/// first value it reads for a keyword, so the first uncommented line for a
/// keyword (outside `Match` blocks, matched case-insensitively) is
/// replaced in place and later ones are commented out; keywords without
/// such a line are added, under a comment, before the first `Match` block
/// so that they apply globally (or at the end when there is none).
pub fn edit_sshd_config(set_text: &str, wanted: &[(&str, &str)]) -> String {
    let mut done = vec![false; wanted.len()];
    let mut lines: Vec<String> = Vec::new();
    let mut match_at: Option<usize> = None;
    for line in set_text.lines() {
        // sshd_config(5): "Keyword value" or "Keyword=value".
        let keyword = line
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == '=')
            .next()
            .unwrap_or("");
        if match_at.is_none() && keyword.eq_ignore_ascii_case("match") {
            match_at = Some(lines.len());
        }
        let mut replaced = false;
        if match_at.is_none() {
            for (i, (k, v)) in wanted.iter().enumerate() {
                if keyword.eq_ignore_ascii_case(k) {
                    if !done[i] {
                        lines.push(format!("{k} {v}"));
                        done[i] = true;
                    } else {
                        lines.push(format!("#{line}"));
                    }
                    replaced = true;
                    break;
                }
            }
        }
        if !replaced {
            lines.push(line.to_string());
        }
    }
    let missing: Vec<String> = wanted
        .iter()
        .zip(&done)
        .filter(|(_, d)| !**d)
        .map(|((k, v), _)| format!("{k} {v}"))
        .collect();
    if !missing.is_empty() {
        let at = match_at.unwrap_or(lines.len());
        let mut block =
            vec!["# Added by mkimage: empty-password logins for the build user.".to_string()];
        block.extend(missing);
        lines.splice(at..at, block);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commented_defaults_stay_and_settings_are_added_before_match() {
        let text = "#UsePAM yes\nUsePAM yes\nusepam no\nMatch User x\n\tUsePAM yes\n";
        let out = edit_sshd_config(text, &[("UsePAM", "no"), ("PermitEmptyPasswords", "yes")]);
        assert_eq!(
            out,
            "#UsePAM yes\nUsePAM no\n#usepam no\n# Added by mkimage: empty-password logins for the build user.\nPermitEmptyPasswords yes\nMatch User x\n\tUsePAM yes\n"
        );
    }
}
