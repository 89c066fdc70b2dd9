//! What `plan` refuses to parse: a file too large, a document nested too deep.
//!
//! `plan` runs on pull requests, so its input is hostile. serde_yaml's parser (libyaml) takes
//! time quadratic in the depth of flow nesting (2 MB of `[` ran for minutes), so the depth is
//! found first by [`too_deep`], one linear pass that splits the text into tokens by the rules
//! of libyaml's scanner (`unsafe-libyaml`'s `scanner.rs`, whose function names are given below)
//! and counts the collections open at each token. Its count may exceed the parser's (it goes on
//! where the parser stops at an error, and counts some collections the parser does not open)
//! but must never be below it: a bracket hidden in what it takes for a quoted string or a
//! comment would let the document through. That was checked against libyaml's own events on
//! millions of generated documents, valid and not; a change here wants the same check.

/// The most `plan` reads of one file or of stdin. The files of `examples/` are 4 KiB at most
/// and a directory of quotas is many small files, so 1 MiB, hundreds of objects in one file, is
/// far more than a real file, and parses in under half a second (a few in a debug build) even
/// nested to [`MAX_DEPTH`] throughout.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// The deepest nesting `plan` parses: mappings and sequences, block (indented) or flow (`[`,
/// `{`). The objects of `examples/` are at most 4 deep, far from 64, and at 64 libyaml's cost
/// per token (a walk over the open flow levels) is still small.
pub const MAX_DEPTH: usize = 64;

/// Whether a document of `text` nests deeper than [`MAX_DEPTH`]; stops as soon as one does, so
/// its work (and memory) is linear in the text whatever the text.
pub fn too_deep(text: &str) -> bool {
    Scan::new(text.as_bytes()).run().is_err()
}

/// Nesting past [`MAX_DEPTH`] was found.
struct TooDeep;

/// An open block collection: libyaml's indentation stack.
struct Block {
    column: isize,
    mapping: bool,
    /// A sequence at the mapping's own column (`key:\n- a`), which libyaml does not indent.
    indentless: bool,
}

/// An open flow collection.
struct Flow {
    sequence: bool,
    /// An entry `[a: b]` of a sequence is a mapping of its own.
    pair: bool,
}

/// Where a simple key (`key:` without `?`) may start. Its `:` opens a mapping (a block mapping
/// at the key's column, or a flow sequence's single pair) around the key, which may itself be a
/// collection (`[a]: b`): what was nested in the key was one deeper than it looked.
#[derive(Clone, Copy)]
struct Key {
    column: usize,
    line: usize,
    index: usize,
    /// The greatest depth since the key started.
    peak: usize,
}

/// The scanner's state, as libyaml keeps it.
struct Scan<'a> {
    text: &'a [u8],
    index: usize,
    column: usize,
    line: usize,
    blocks: Vec<Block>,
    flows: Vec<Flow>,
    depth: usize,
    simple_key_allowed: bool,
    /// The possible simple key of the block context, then of each flow collection.
    keys: Vec<Option<Key>>,
    /// The last token was a `?` in a flow collection: libyaml's parser takes a `]` after it for
    /// the empty key and leaves the sequence open (`yaml_parser_parse_flow_sequence_entry_
    /// mapping_key`), one deeper than the scanner's flow level.
    after_flow_key: bool,
    /// Flow collections the parser left open so.
    unclosed: usize,
    /// Since the parser left one open, which of its flow collections is a sequence is not
    /// followed: each counts as one with a single-pair mapping in it.
    desynced: bool,
}

impl<'a> Scan<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            index: 0,
            column: 0,
            line: 0,
            blocks: vec![],
            flows: vec![],
            depth: 0,
            simple_key_allowed: true,
            keys: vec![None],
            after_flow_key: false,
            unclosed: 0,
            desynced: false,
        }
    }

    /// `yaml_parser_fetch_next_token`, to the end of the text. Where libyaml reports an error
    /// (and the parse stops) this goes on: it can only count more.
    fn run(&mut self) -> Result<(), TooDeep> {
        loop {
            self.skip_to_token();
            self.stale_keys();
            self.unroll(self.column as isize);
            self.end_indentless();
            if self.is_z(0) {
                return Ok(());
            }
            let after_flow_key = std::mem::take(&mut self.after_flow_key);
            self.token(after_flow_key)?;
        }
    }

    fn token(&mut self, after_flow_key: bool) -> Result<(), TooDeep> {
        let c = self.at(0);
        if self.column == 0 && c == b'%' {
            self.document_boundary();
            self.skip_while(|s| !s.is_breakz(0));
        } else if self.column == 0 && self.document_marker() {
            self.document_boundary();
            self.index += 3;
            self.column += 3;
        } else if c == b'[' || c == b'{' {
            self.save_key();
            self.push_flow(c == b'[')?;
            self.simple_key_allowed = true;
            self.bump();
        } else if c == b']' || c == b'}' {
            self.remove_key();
            self.pop_flow(after_flow_key)?;
            self.simple_key_allowed = false;
            self.bump();
        } else if c == b',' {
            self.remove_key();
            self.simple_key_allowed = true;
            self.bump();
        } else {
            return self.other_token(c);
        }
        Ok(())
    }

    fn other_token(&mut self, c: u8) -> Result<(), TooDeep> {
        let flow = !self.flows.is_empty();
        let blankz_next = self.is_blankz(1);
        match c {
            b'-' if blankz_next => self.block_entry()?,
            b'?' if flow || blankz_next => self.explicit_key()?,
            b':' if flow || blankz_next => self.value()?,
            b'*' | b'&' => {
                self.node_start();
                self.bump();
                self.skip_while(|s| s.at(0).is_ascii_alphanumeric() || b"_-".contains(&s.at(0)));
            }
            b'!' => {
                self.node_start();
                self.tag();
            }
            b'|' | b'>' if !flow => {
                self.remove_key();
                self.simple_key_allowed = true;
                self.block_scalar();
            }
            b'\'' | b'"' => {
                self.node_start();
                self.quoted(c);
            }
            _ if self.starts_plain(c) => {
                self.node_start();
                if self.plain() {
                    self.simple_key_allowed = true;
                }
            }
            // "found character that cannot start any token": the parse ends here.
            _ => self.bump(),
        }
        Ok(())
    }

    /// What a node's first token does to the simple key (`yaml_parser_fetch_anchor`, `_tag`,
    /// `_flow_scalar`, `_plain_scalar`).
    fn node_start(&mut self) {
        self.save_key();
        self.simple_key_allowed = false;
    }

    /// `yaml_parser_fetch_directive` and `_document_indicator`.
    fn document_boundary(&mut self) {
        self.unroll(-1);
        self.remove_key();
        self.simple_key_allowed = false;
    }

    /// `yaml_parser_fetch_block_entry` (`-`).
    fn block_entry(&mut self) -> Result<(), TooDeep> {
        if self.flows.is_empty() {
            let column = self.column as isize;
            if self.indent() == column {
                self.indentless_sequence()?;
            }
            self.roll(column, false)?;
        }
        self.remove_key();
        self.simple_key_allowed = true;
        self.bump();
        Ok(())
    }

    /// `yaml_parser_fetch_key` (`?`).
    fn explicit_key(&mut self) -> Result<(), TooDeep> {
        self.pair()?;
        if self.flows.is_empty() {
            self.roll(self.column as isize, true)?;
        }
        self.remove_key();
        self.simple_key_allowed = self.flows.is_empty();
        self.after_flow_key = !self.flows.is_empty();
        self.bump();
        Ok(())
    }

    /// `yaml_parser_fetch_value` (`:`): a simple key before it opens a mapping around it.
    fn value(&mut self) -> Result<(), TooDeep> {
        let key = self.keys.last_mut().and_then(Option::take);
        let opens = match (&key, self.flows.last()) {
            (Some(key), None) => key.column as isize > self.indent(),
            (Some(_), Some(flow)) => flow.sequence || self.desynced,
            (None, _) => false,
        };
        if let Some(key) = key.filter(|_| opens) {
            self.reach(key.peak + 1)?;
        }
        self.pair()?;
        let column = key.map_or(self.column, |k| k.column);
        self.roll(column as isize, true)?;
        self.simple_key_allowed = key.is_none() && self.flows.is_empty();
        self.bump();
        Ok(())
    }

    /// `yaml_parser_scan_to_next_token`: spaces, comments and line breaks.
    fn skip_to_token(&mut self) {
        loop {
            if self.column == 0 && self.text[self.index..].starts_with(b"\xEF\xBB\xBF") {
                self.index += 3;
                self.column += 1;
            }
            let tabs = !self.flows.is_empty() || !self.simple_key_allowed;
            self.skip_while(|s| s.at(0) == b' ' || (tabs && s.at(0) == b'\t'));
            if self.at(0) == b'#' {
                self.skip_while(|s| !s.is_breakz(0));
            }
            if !self.is_break(0) {
                return;
            }
            self.bump();
            if self.flows.is_empty() {
                self.simple_key_allowed = true;
            }
        }
    }

    /// `yaml_parser_stale_simple_keys`: a simple key is one line and at most 1024 bytes.
    fn stale_keys(&mut self) {
        let (line, index) = (self.line, self.index);
        for slot in &mut self.keys {
            if slot.is_some_and(|k| k.line < line || k.index + 1024 < index) {
                *slot = None;
            }
        }
    }

    /// `yaml_parser_save_simple_key`.
    fn save_key(&mut self) {
        if self.simple_key_allowed {
            *self.keys.last_mut().expect("the block context's key") = Some(Key {
                column: self.column,
                line: self.line,
                index: self.index,
                peak: self.depth,
            });
        }
    }

    /// `yaml_parser_remove_simple_key`.
    fn remove_key(&mut self) {
        *self.keys.last_mut().expect("the block context's key") = None;
    }

    fn indent(&self) -> isize {
        self.blocks.last().map_or(-1, |b| b.column)
    }

    /// `yaml_parser_roll_indent`: a block collection opens at `column`.
    fn roll(&mut self, column: isize, mapping: bool) -> Result<(), TooDeep> {
        if !self.flows.is_empty() || self.indent() >= column {
            return Ok(());
        }
        self.blocks.push(Block {
            column,
            mapping,
            indentless: false,
        });
        self.deeper()
    }

    /// `yaml_parser_unroll_indent`: block collections deeper than `column` close.
    fn unroll(&mut self, column: isize) {
        if !self.flows.is_empty() {
            return;
        }
        while self.indent() > column {
            let block = self
                .blocks
                .pop()
                .expect("an indentation above -1 is a block");
            self.depth -= 1 + usize::from(block.indentless);
        }
    }

    /// The parser ends a sequence without indentation at the first token of its mapping's
    /// column that is not a `-`.
    fn end_indentless(&mut self) {
        if !self.flows.is_empty() || (self.at(0) == b'-' && self.is_blankz(1)) {
            return;
        }
        if let Some(block) = self.blocks.last_mut()
            && block.indentless
            && block.column == self.column as isize
        {
            block.indentless = false;
            self.depth -= 1;
        }
    }

    fn indentless_sequence(&mut self) -> Result<(), TooDeep> {
        match self.blocks.last_mut() {
            Some(block) if block.mapping && !block.indentless => {
                block.indentless = true;
                self.deeper()
            }
            _ => Ok(()),
        }
    }

    /// `yaml_parser_increase_flow_level`.
    fn push_flow(&mut self, sequence: bool) -> Result<(), TooDeep> {
        self.flows.push(Flow {
            sequence,
            pair: self.desynced,
        });
        self.keys.push(None);
        if self.desynced {
            self.deeper()?;
        }
        self.deeper()
    }

    /// `yaml_parser_decrease_flow_level`, and the parser's collection that closes (or not).
    fn pop_flow(&mut self, after_flow_key: bool) -> Result<(), TooDeep> {
        match self.flows.pop() {
            Some(flow) => {
                self.keys.pop();
                self.depth -= 1 + usize::from(flow.pair);
                if after_flow_key {
                    self.unclosed += 1;
                    self.desynced = true;
                    self.deeper()?;
                    return self.deeper();
                }
            }
            None if self.unclosed > 0 => {
                self.unclosed -= 1;
                self.depth -= 2;
            }
            None => {}
        }
        Ok(())
    }

    /// A `?` or `:` in a flow sequence: the entry may be a single-pair mapping.
    fn pair(&mut self) -> Result<(), TooDeep> {
        match self.flows.last_mut() {
            Some(flow) if flow.sequence && !flow.pair => {
                flow.pair = true;
                self.deeper()
            }
            _ => Ok(()),
        }
    }

    fn deeper(&mut self) -> Result<(), TooDeep> {
        self.depth += 1;
        self.reach(self.depth)
    }

    /// Something `depth` deep was found (inside the keys that are open, which may be deeper).
    fn reach(&mut self, depth: usize) -> Result<(), TooDeep> {
        if depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        for key in self.keys.iter_mut().flatten() {
            key.peak = key.peak.max(depth);
        }
        Ok(())
    }

    /// The last test of `yaml_parser_fetch_next_token`.
    fn starts_plain(&self, c: u8) -> bool {
        let indicator = self.is_blankz(0) || b"-?:,[]{}#&*!|>'\"%@`".contains(&c);
        !indicator
            || (c == b'-' && !self.is_blank(1))
            || (self.flows.is_empty() && (c == b'?' || c == b':') && !self.is_blankz(1))
    }

    /// `yaml_parser_scan_tag`, as far as a tag that scans without error goes.
    fn tag(&mut self) {
        self.bump();
        if self.at(0) == b'<' {
            self.skip_while(|s| !s.is_blankz(0) && s.at(0) != b'>');
            if self.at(0) == b'>' {
                self.bump();
            }
        } else {
            let flow = !self.flows.is_empty();
            self.skip_while(|s| !(s.is_blankz(0) || (flow && s.at(0) == b',')));
        }
    }

    /// `yaml_parser_scan_flow_scalar`: to the closing quote, whatever the indentation.
    fn quoted(&mut self, quote: u8) {
        self.bump();
        loop {
            if (self.column == 0 && self.document_marker()) || self.is_z(0) {
                return;
            }
            while !self.is_blankz(0) {
                let c = self.at(0);
                if quote == b'\'' && c == b'\'' && self.at(1) == b'\'' {
                    self.index += 2;
                    self.column += 2;
                } else if c == quote {
                    self.bump();
                    return;
                } else if quote == b'"' && c == b'\\' && self.is_break(1) {
                    self.bump();
                    self.bump();
                    break;
                } else if quote == b'"' && c == b'\\' {
                    self.bump();
                    self.bump();
                } else {
                    self.bump();
                }
            }
            self.skip_while(|s| s.is_blank(0) || s.is_break(0));
        }
    }

    /// `yaml_parser_scan_plain_scalar`; whether it ended on a line break.
    fn plain(&mut self) -> bool {
        let flow = !self.flows.is_empty();
        let indent = self.indent() + 1;
        let mut leading_blanks = false;
        loop {
            if (self.column == 0 && self.document_marker()) || self.at(0) == b'#' {
                return leading_blanks;
            }
            while !self.is_blankz(0) {
                let c = self.at(0);
                if flow && c == b':' && b",?[]{}".contains(&self.at(1)) {
                    return leading_blanks;
                }
                if (c == b':' && self.is_blankz(1)) || (flow && b",[]{}".contains(&c)) {
                    break;
                }
                self.bump();
                leading_blanks = false;
            }
            if !(self.is_blank(0) || self.is_break(0)) {
                return leading_blanks;
            }
            while self.is_blank(0) || self.is_break(0) {
                if self.is_break(0) {
                    leading_blanks = true;
                } else if leading_blanks && (self.column as isize) < indent && self.at(0) == b'\t' {
                    return leading_blanks;
                }
                self.bump();
            }
            if !flow && (self.column as isize) < indent {
                return leading_blanks;
            }
        }
    }

    /// `yaml_parser_scan_block_scalar`: a header, then lines indented at least as its first.
    fn block_scalar(&mut self) {
        self.bump();
        let increment = self.block_scalar_header();
        self.skip_while(|s| s.is_blank(0));
        if self.at(0) == b'#' {
            self.skip_while(|s| !s.is_breakz(0));
        }
        if !self.is_breakz(0) {
            return;
        }
        self.bump();
        let mut indent = match increment {
            0 => 0,
            n if self.indent() >= 0 => self.indent() + n,
            n => n,
        };
        if !self.block_scalar_breaks(&mut indent) {
            return;
        }
        while self.column as isize == indent && !self.is_z(0) {
            self.skip_while(|s| !s.is_breakz(0));
            self.bump();
            if !self.block_scalar_breaks(&mut indent) {
                return;
            }
        }
    }

    /// The chomping and indentation indicators, in either order; the indentation.
    fn block_scalar_header(&mut self) -> isize {
        let mut increment = 0;
        for _ in 0..2 {
            match self.at(0) {
                b'+' | b'-' => self.bump(),
                c @ b'1'..=b'9' if increment == 0 => {
                    increment = isize::from(c - b'0');
                    self.bump();
                }
                _ => break,
            }
        }
        increment
    }

    /// `yaml_parser_scan_block_scalar_breaks`: empty lines, and the indentation when it is not
    /// given; false where libyaml reports a tab.
    fn block_scalar_breaks(&mut self, indent: &mut isize) -> bool {
        let mut max_indent = 0;
        loop {
            let short = |s: &Self| *indent == 0 || (s.column as isize) < *indent;
            self.skip_while(|s| short(s) && s.at(0) == b' ');
            max_indent = max_indent.max(self.column as isize);
            if short(self) && self.at(0) == b'\t' {
                return false;
            }
            if !self.is_break(0) {
                break;
            }
            self.bump();
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent() + 1).max(1);
        }
        true
    }

    fn document_marker(&self) -> bool {
        let rest = &self.text[self.index..];
        (rest.starts_with(b"---") || rest.starts_with(b"...")) && self.is_blankz(3)
    }

    fn skip_while(&mut self, mut more: impl FnMut(&Self) -> bool) {
        while !self.is_z(0) && more(self) {
            self.bump();
        }
    }

    /// One character, or one line break (`\r\n` is one).
    fn bump(&mut self) {
        if self.is_z(0) {
            return;
        }
        let width = self.break_width(0);
        if width > 0 {
            self.index += width;
            self.column = 0;
            self.line += 1;
            return;
        }
        self.index += 1;
        while self.index < self.text.len() && self.text[self.index] & 0xC0 == 0x80 {
            self.index += 1;
        }
        self.column += 1;
    }

    /// The byte `offset` bytes on; 0 past the end, which libyaml's buffer ends with (a 0 in the
    /// text is an end too: libyaml's reader refuses it, and the parse stops there).
    fn at(&self, offset: usize) -> u8 {
        self.text.get(self.index + offset).copied().unwrap_or(0)
    }

    fn is_z(&self, offset: usize) -> bool {
        self.at(offset) == 0
    }

    fn is_blank(&self, offset: usize) -> bool {
        matches!(self.at(offset), b' ' | b'\t')
    }

    fn is_break(&self, offset: usize) -> bool {
        self.break_width(offset) > 0
    }

    fn is_breakz(&self, offset: usize) -> bool {
        self.is_break(offset) || self.is_z(offset)
    }

    fn is_blankz(&self, offset: usize) -> bool {
        self.is_blank(offset) || self.is_breakz(offset)
    }

    /// `\r\n`, `\r`, `\n`, NEL, LS and PS are line breaks to libyaml.
    fn break_width(&self, offset: usize) -> usize {
        let rest = self.text.get(self.index + offset..).unwrap_or_default();
        match rest {
            [b'\r', b'\n', ..] => 2,
            [b'\r' | b'\n', ..] => 1,
            [0xC2, 0x85, ..] => 2,
            [0xE2, 0x80, 0xA8 | 0xA9, ..] => 3,
            _ => 0,
        }
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
