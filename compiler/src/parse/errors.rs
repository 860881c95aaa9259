//! Turning pest's "expected one of these rules" into a message a config author understands,
//! with hints for the mistakes Kamailio users actually make.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Expanded;

/// What a rule means to a user, or `None` for rules not worth naming.
fn friendly(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::semicolon => "`;`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbrack => "`[`",
        Rule::rbrack => "`]`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::equals => "`=`",
        Rule::kw_else => "`else`",
        Rule::kw_case | Rule::case_label => "`case`",
        Rule::kw_default | Rule::default_label => "`default`",
        Rule::statement
        | Rule::if_stmt
        | Rule::while_stmt
        | Rule::switch_stmt
        | Rule::block
        | Rule::return_stmt
        | Rule::exit_stmt
        | Rule::drop_stmt
        | Rule::break_stmt
        | Rule::assign
        | Rule::call_stmt => "a statement",
        Rule::expr
        | Rule::paren_expr
        | Rule::strlen_expr
        | Rule::strempty_expr
        | Rule::selval_expr
        | Rule::ip_literal
        | Rule::number
        | Rule::bool_word
        | Rule::pv
        | Rule::select
        | Rule::keyword_operand
        | Rule::call_expr
        | Rule::bare_ident
        | Rule::dotted_host
        | Rule::cast_int
        | Rule::cast_str
        | Rule::op_not
        | Rule::op_bnot
        | Rule::op_neg
        | Rule::op_defined
        | Rule::arg
        | Rule::host_arg
        | Rule::socket_arg
        | Rule::uri_host
        | Rule::uri_port => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_bor
        | Rule::op_band
        | Rule::op_bxor
        | Rule::op_lshift
        | Rule::op_rshift
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_match
        | Rule::op_streq
        | Rule::op_strne
        | Rule::op_inteq
        | Rule::op_intne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_mod => "an operator",
        Rule::string | Rule::dq_string | Rule::sq_string | Rule::typo_string => "a string",
        Rule::item
        | Rule::route_block
        | Rule::loadmodule
        | Rule::modparam
        | Rule::global_assign
        | Rule::cfg_var
        | Rule::mpath
        | Rule::flags_decl
        | Rule::cfgengine
        | Rule::socket_block
        | Rule::coreparam => "a route block, `loadmodule`, `modparam` or `name = value`",
        Rule::route_header => "a route block",
        Rule::route_name => "a route name",
        Rule::event_name => "an event name such as `xhttp:request`",
        Rule::func_name | Rule::ident => "a name",
        Rule::call_args => "`(`",
        Rule::global_value | Rule::signed_number | Rule::socket_list | Rule::socket_spec => "a value",
        Rule::modparam_value => "a string or a number",
        Rule::socket_suffix | Rule::kw_advertise | Rule::kw_name | Rule::kw_virtual => {
            "`advertise`, `name` or `virtual`"
        }
        Rule::EOI => "end of file",
        _ => return None,
    })
}

/// The token at `at`, for "found ..." in messages.
fn token_at(text: &str, at: usize) -> String {
    let rest = &text[at.min(text.len())..];
    let Some(first) = rest.chars().next() else {
        return "end of file".to_string();
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        return format!("`{word}`");
    }
    for op in ["+=", "-=", ":=", "!~", "==", "!=", "=~", "&&", "||", "<=", ">="] {
        if rest.starts_with(op) {
            return format!("`{op}`");
        }
    }
    format!("`{first}`")
}

/// Builds the diagnostic for a failed parse of the item starting at `base`. Also returns the
/// absolute offset where the parse failed.
pub(super) fn syntax_error(error: &Error<Rule>, text: &str, base: usize, expanded: &Expanded) -> (Diagnostic, usize) {
    let relative = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let at = (base + relative).min(text.len());
    let mut expected: Vec<&str> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(name) = friendly(*rule)
                && !expected.contains(&name)
            {
                expected.push(name);
            }
        }
    }
    let found = token_at(text, at);
    let message = match expected.as_slice() {
        [] => format!("unexpected {found}"),
        [one] => format!("expected {one}, found {found}"),
        [init @ .., last] => format!("expected {} or {}, found {}", init.join(", "), last, found),
    };
    let rest = &text[at..];
    let mut span = expanded.point(at);
    let mut label = "unexpected here".to_string();
    let mut help = None;

    let previous_end = text[..at].trim_end().len();
    let newline_between = text[previous_end..at].contains('\n');
    if expected.contains(&"`;`") && (newline_between || rest.starts_with('}')) && previous_end > 0 {
        let last = text[..previous_end].chars().next_back().map(char::len_utf8).unwrap_or(1);
        span = expanded.span(previous_end - last..previous_end);
        label = "expected `;` after this".to_string();
        help = Some("end each statement (call, assignment, return, exit, drop, break) with `;`".to_string());
    }
    if rest.starts_with("+=") || rest.starts_with("-=") || rest.starts_with(":=") {
        help = Some("Kamailio has only `=`: write `$x = $x + value;`".to_string());
    } else if rest.starts_with("!~") {
        help = Some("there is no `!~` operator: write `!($x =~ \"re\")`".to_string());
    } else if rest.starts_with('%') {
        help = Some("`%` is not an operator in Kamailio: write `mod` for the remainder".to_string());
    } else if rest.starts_with("else") && text[..at].trim_end().ends_with(';') {
        let semicolon = text[..at].trim_end().len() - 1;
        span = expanded.span(semicolon..semicolon + 1);
        label = "this `;` ends the `if`".to_string();
        help = Some("remove the `;` between `}` and `else`".to_string());
    } else if rest.starts_with('}') && text[..at].trim_end().ends_with('{') {
        help = Some("a block needs at least one statement; write `{ ; }` for one that does nothing".to_string());
    } else if (rest.starts_with('[') || rest.starts_with('{'))
        && text[..at].trim_end().ends_with(')')
        && text[..at].contains('$')
    {
        help = Some("an index or transformation needs the `$( ... )` form: `$(avp(x)[1])`, `$(ru{s.len})`".to_string());
    }
    let mut diagnostic = Diagnostic::new(Code::Syntax, span, message).with_label(label);
    diagnostic.help = help;
    (diagnostic, at)
}
