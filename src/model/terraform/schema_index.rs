//! Where each type's entries are in a provider's schema text (the format of
//! `scripts/provider-schema-compact.py`). The build script runs this over the generated data
//! and writes the table into the binary, so a check looks a type up without reading the
//! data first; the tests run it too.

/// Every type of `text`: (`b'R'` resource or `b'D'` data source, type name, the byte range
/// of its entries), sorted by kind byte, then name.
pub fn index(text: &str) -> Vec<(u8, &str, usize, usize)> {
    let mut out: Vec<(u8, &str, usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let kind = match line.as_bytes().first() {
            Some(&k @ (b'R' | b'D')) => k,
            _ => continue,
        };
        if let Some(last) = out.last_mut() {
            last.3 = start;
        }
        out.push((kind, line[1..].trim(), pos, pos));
    }
    if let Some(last) = out.last_mut() {
        last.3 = pos;
    }
    out.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // A type written twice (the generator writes each once) keeps its last entries.
    out.dedup_by(|later, kept| {
        let same = (later.0, later.1) == (kept.0, kept.1);
        if same {
            *kept = *later;
        }
        same
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn types_are_found_sorted_with_their_entries() {
        let text = "# src 1.0\nR b_thing\n x o\nD a_thing\n y r\nR a_thing\n +z list 0 1\n  w o\n";
        let index = super::index(text);
        let found: Vec<(u8, &str, &str)> = index
            .iter()
            .map(|&(k, name, from, to)| (k, name, &text[from..to]))
            .collect();
        assert_eq!(
            found,
            [
                (b'D', "a_thing", " y r\n"),
                (b'R', "a_thing", " +z list 0 1\n  w o\n"),
                (b'R', "b_thing", " x o\n"),
            ]
        );
    }

    #[test]
    fn a_type_written_twice_keeps_its_last_entries() {
        let text = "R t\n a o\nR t\n b o\n";
        let index = super::index(text);
        assert_eq!(index.len(), 1);
        assert_eq!(&text[index[0].2..index[0].3], " b o\n");
    }
}
