//! IP network functions (`cidrhost`, `cidrnetmask`, `cidrsubnet`, `cidrsubnets`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{EvalError, Evaluator, Value, int_arg, str_arg};

type R = Result<Value, EvalError>;

/// A parsed prefix: network address (masked), address width, prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: u128,
    bits: u32,
    len: u32,
}

impl Net {
    fn host_bits(&self) -> u32 {
        self.bits - self.len
    }

    fn mask(bits: u32, len: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            all & !(((1u128 << (bits - len)) - 1) & all)
        }
    }

    fn last(&self) -> u128 {
        let size_minus_one = if self.host_bits() == 128 {
            u128::MAX
        } else {
            (1u128 << self.host_bits()) - 1
        };
        self.addr | size_minus_one
    }
}

fn format_addr(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn format_net(n: &Net) -> String {
    format!("{}/{}", format_addr(n.addr, n.bits), n.len)
}

fn parse_cidr(s: &str) -> Result<Net, EvalError> {
    let err = || {
        EvalError::new(format!(
            "invalid CIDR expression: {}",
            Value::String(s.to_string())
        ))
    };
    let (ip, len) = s.split_once('/').ok_or_else(err)?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return Err(err());
    }
    let len: u32 = len.parse().map_err(|_| err())?;
    let (addr, bits) = match ip.parse::<IpAddr>().map_err(|_| err())? {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    if len > bits {
        return Err(err());
    }
    Ok(Net {
        addr: addr & Net::mask(bits, len),
        bits,
        len,
    })
}

fn subnet(base: &Net, newbits: i64, netnum: i64) -> Result<Net, EvalError> {
    if newbits < 0 {
        return Err(EvalError::new("newbits must be non-negative"));
    }
    let newlen = u32::try_from(newbits)
        .ok()
        .and_then(|nb| base.len.checked_add(nb))
        .filter(|l| *l <= base.bits)
        .ok_or_else(|| {
            EvalError::new(format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                base.len
            ))
        })?;
    let newbits = newlen - base.len;
    if netnum < 0 || (newbits < 64 && (netnum as u128) >= (1u128 << newbits)) {
        return Err(EvalError::new(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        )));
    }
    let shift = base.bits - newlen;
    let offset = if shift >= 128 {
        0
    } else {
        (netnum as u128) << shift
    };
    Ok(Net {
        addr: base.addr | offset,
        bits: base.bits,
        len: newlen,
    })
}

pub(super) fn cidrsubnet(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let base = parse_cidr(&str_arg(&a, 0)?)?;
    let newbits = int_arg(&a, 1)?;
    let netnum = int_arg(&a, 2)?;
    Ok(Value::String(format_net(&subnet(&base, newbits, netnum)?)))
}

pub(super) fn cidrhost(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let base = parse_cidr(&str_arg(&a, 0)?)?;
    let hostnum = int_arg(&a, 1)?;
    let host_bits = base.host_bits();
    let size: Option<u128> = if host_bits >= 128 {
        None
    } else {
        Some(1u128 << host_bits)
    };
    let offset: u128 = if hostnum >= 0 {
        let h = hostnum as u128;
        if size.is_some_and(|s| h >= s) {
            return Err(EvalError::new(format!(
                "prefix of {} does not accommodate a host numbered {hostnum}",
                base.len
            )));
        }
        h
    } else {
        let h = hostnum.unsigned_abs() as u128;
        match size {
            Some(s) if h > s => {
                return Err(EvalError::new(format!(
                    "prefix of {} does not accommodate a host numbered {hostnum}",
                    base.len
                )));
            }
            Some(s) => s - h,
            None => u128::MAX - h + 1,
        }
    };
    Ok(Value::String(format_addr(base.addr | offset, base.bits)))
}

pub(super) fn cidrnetmask(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let base = parse_cidr(&str_arg(&a, 0)?)?;
    if base.bits != 32 {
        return Err(EvalError::new(
            "only IPv4 networks are supported by cidrnetmask",
        ));
    }
    Ok(Value::String(format_addr(Net::mask(32, base.len), 32)))
}

pub(super) fn cidrsubnets(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let base = parse_cidr(&str_arg(&a, 0)?)?;
    let mut out = Vec::new();
    let mut current: Option<Net> = None;
    for i in 1..a.len() {
        let newbits = int_arg(&a, i)?;
        let next = match current {
            None => subnet(&base, newbits, 0)?,
            Some(cur) => {
                let sized = subnet(&base, newbits, 0)?;
                let mask = Net::mask(base.bits, sized.len);
                let container = Net {
                    addr: cur.last() & mask,
                    bits: base.bits,
                    len: sized.len,
                };
                let start = container.last().checked_add(1).ok_or_else(|| {
                    EvalError::new("not enough remaining address space for a subnet")
                })?;
                let net = Net {
                    addr: start & mask,
                    bits: base.bits,
                    len: sized.len,
                };
                if net.addr & Net::mask(base.bits, base.len) != base.addr
                    || (base.bits == 32 && start > u128::from(u32::MAX))
                {
                    return Err(EvalError::new(format!(
                        "not enough remaining address space for a subnet with a prefix of {} bits after {}",
                        sized.len,
                        format_net(&cur)
                    )));
                }
                net
            }
        };
        out.push(Value::String(format_net(&next)));
        current = Some(next);
    }
    Ok(Value::list(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::expr::eval::EmptyScope;

    fn run(f: fn(&mut Evaluator<'_>, Vec<Value>) -> R, args: Vec<Value>) -> R {
        let mut ev = Evaluator::new(&EmptyScope);
        f(&mut ev, args)
    }

    #[test]
    fn cidr_functions() {
        let n = |x: f64| Value::Number(x);
        assert_eq!(
            run(cidrsubnet, vec!["172.16.0.0/12".into(), n(4.0), n(2.0)]).unwrap(),
            Value::from("172.18.0.0/16")
        );
        assert_eq!(
            run(cidrsubnet, vec!["10.1.2.0/24".into(), n(4.0), n(15.0)]).unwrap(),
            Value::from("10.1.2.240/28")
        );
        assert_eq!(
            run(
                cidrsubnet,
                vec!["fd00:fd12:3456:7890::/56".into(), n(16.0), n(162.0)]
            )
            .unwrap(),
            Value::from("fd00:fd12:3456:7800:a200::/72")
        );
        assert!(run(cidrsubnet, vec!["10.0.0.0/30".into(), n(4.0), n(1.0)]).is_err());
        assert!(run(cidrsubnet, vec!["10.0.0.0/24".into(), n(2.0), n(4.0)]).is_err());
        assert_eq!(
            run(cidrhost, vec!["10.12.112.0/20".into(), n(16.0)]).unwrap(),
            Value::from("10.12.112.16")
        );
        assert_eq!(
            run(cidrhost, vec!["10.12.112.0/20".into(), n(268.0)]).unwrap(),
            Value::from("10.12.113.12")
        );
        assert_eq!(
            run(cidrhost, vec!["10.0.0.0/24".into(), n(-2.0)]).unwrap(),
            Value::from("10.0.0.254")
        );
        assert_eq!(
            run(cidrnetmask, vec!["172.16.0.0/12".into()]).unwrap(),
            Value::from("255.240.0.0")
        );
        assert_eq!(
            run(
                cidrsubnets,
                vec!["10.1.0.0/16".into(), n(4.0), n(4.0), n(8.0), n(4.0)]
            )
            .unwrap(),
            Value::list(vec![
                "10.1.0.0/20".into(),
                "10.1.16.0/20".into(),
                "10.1.32.0/24".into(),
                "10.1.48.0/20".into(),
            ])
        );
        assert!(run(cidrsubnet, vec!["not-a-cidr".into(), n(1.0), n(0.0)]).is_err());
    }
}
