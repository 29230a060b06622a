//! `/etc/group` entries: `name:passwd:gid:member,member`.

/// One group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub password: String,
    pub gid: u32,
    pub members: Vec<String>,
}

impl Group {
    /// A group without password (`*`) or members.
    pub fn new(name: &str, gid: u32) -> Self {
        Group {
            name: name.into(),
            password: "*".into(),
            gid,
            members: Vec::new(),
        }
    }

    pub fn parse(line: &str) -> Result<Self, String> {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() != 4 {
            return Err(format!(
                "expected 4 fields separated by `:`, found {}",
                f.len()
            ));
        }
        if f[0].is_empty() {
            return Err("empty group name".into());
        }
        let members = if f[3].is_empty() {
            Vec::new()
        } else {
            f[3].split(',').map(String::from).collect()
        };
        Ok(Group {
            name: f[0].into(),
            password: f[1].into(),
            gid: super::passwd::parse_id(f[2], "gid")?,
            members,
        })
    }

    pub fn line(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.name,
            self.password,
            self.gid,
            self.members.join(",")
        )
    }

    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("empty group name".into());
        }
        for v in [&self.name, &self.password]
            .into_iter()
            .chain(self.members.iter())
        {
            if v.contains([':', ',', '\n', '\r', '\0']) {
                return Err(format!("{v:?} contains `:`, `,`, a newline or NUL"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_line_round_trips() {
        for line in ["wheel:*:0:root", "operator:*:5:root,build", "nogroup:*:39:"] {
            assert_eq!(Group::parse(line).unwrap().line(), line);
        }
        assert!(Group::parse("wheel:*:0").is_err());
    }
}
