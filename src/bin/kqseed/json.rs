//! A small JSON writer in the style of jsoncpp's StyledWriter, which NIST's
//! tools use: `ea_non_iid`'s schema for `assess --json`, the same look for
//! `report --json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A JSON value, enough for `ea_non_iid`'s output.
pub enum Json {
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Obj(BTreeMap<&'static str, Json>),
    Arr(Vec<Json>),
}

impl Json {
    /// Writes like jsoncpp's StyledWriter (3-space indent, `key : value`),
    /// which `ea_non_iid` uses; object keys come out sorted, as there.
    pub fn write(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        match self {
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Json::Num(x) => out.push_str(&number(*x)),
            Json::Str(s) => string(out, s),
            Json::Obj(map) => {
                out.push_str("{\n");
                let last = map.len().saturating_sub(1);
                for (i, (k, v)) in map.iter().enumerate() {
                    let _ = write!(out, "{pad}   ");
                    string(out, k);
                    out.push_str(" : ");
                    v.write(out, indent + 3);
                    out.push_str(if i == last { "\n" } else { ",\n" });
                }
                let _ = write!(out, "{pad}}}");
            }
            Json::Arr(items) => {
                out.push_str("[\n");
                let last = items.len().saturating_sub(1);
                for (i, v) in items.iter().enumerate() {
                    let _ = write!(out, "{pad}   ");
                    v.write(out, indent + 3);
                    out.push_str(if i == last { "\n" } else { ",\n" });
                }
                let _ = write!(out, "{pad}]");
            }
        }
    }
}

pub fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A double as jsoncpp prints it: C's `%.17g`, with `.0` added to integral
/// values, so numbers read back bit for bit and look like the tool's.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "null".to_string();
    }
    if x == 0.0 {
        return "0.0".to_string();
    }
    const P: i32 = 17;
    let sci = format!("{:.*e}", (P - 1) as usize, x);
    let exp: i32 = sci
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let mut s = if (-4..P).contains(&exp) {
        let mut f = format!("{:.*}", (P - 1 - exp) as usize, x);
        if f.contains('.') {
            f = f.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        f
    } else {
        let (mantissa, _) = sci.rsplit_once('e').unwrap_or((&sci, ""));
        let mantissa = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    };
    if !s.contains(['.', 'e']) {
        s.push_str(".0");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_jsoncpp() {
        // Values and spellings from ea_non_iid's reference JSON.
        assert_eq!(number(443.0), "443.0");
        assert_eq!(number(0.00443), "0.0044299999999999999");
        assert_eq!(number(0.50128), "0.50127999999999995");
        assert_eq!(number(7.652262732440259), "7.652262732440259");
        assert_eq!(number(8.0), "8.0");
        assert_eq!(number(1.3018994784836691e-21), "1.3018994784836691e-21");
        assert_eq!(number(1e22), "1e+22");
    }
}
