//! The syntax tree of a config. Every node keeps the span of the user's text it came from.

use crate::modules::RouteKind;
use crate::source::Span;

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { node: f(self.node), span: self.span }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub items: Vec<Item>,
}

impl Config {
    pub fn routes(&self) -> impl Iterator<Item = &RouteBlock> {
        self.items.iter().filter_map(|item| match item {
            Item::Route(route) => Some(route),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    LoadModule(LoadModule),
    ModParam(ModParam),
    /// `mpath="/usr/lib/kamailio/modules/"`
    ModulePath(Spanned<String>),
    Global(GlobalAssign),
    /// `pstn.gw_ip = "" desc "..."`
    CfgVar(CfgVar),
    /// `flags NAME:bit, ...` / `avpflags ...`
    Flags(Vec<FlagDef>),
    CfgEngine(Spanned<String>),
    Socket(SocketBlock),
    CoreParam {
        name: Spanned<String>,
        value: Spanned<Literal>,
    },
    Route(RouteBlock),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadModule {
    /// As written: `"sl.so"`, `"/usr/lib/kamailio/modules/tm.so"`.
    pub path: Spanned<String>,
    /// The module name derived from the path (`sl`).
    pub name: String,
    pub span: Span,
}

/// A constant written in the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Int(i64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModParam {
    /// A case-insensitive regular expression over loaded module names (`"nathelper|registrar"`).
    pub module: Spanned<String>,
    pub param: Spanned<String>,
    pub value: Spanned<ModParamValue>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModParamValue {
    Int(i64),
    Str(String),
    /// A bare word: usually a `#!define` that was never defined.
    Ident(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct GlobalAssign {
    pub name: Spanned<String>,
    pub value: Spanned<GlobalValue>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GlobalValue {
    Int(i64),
    Str(String),
    /// A bare word (`LOG_LOCAL0`, `kamailio`).
    Ident(String),
    /// `udp:10.0.0.1:5060 advertise 1.2.3.4:5060 name "pub"`
    Listen(ListenSpec),
}

/// One `listen`/`alias` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec {
    pub address: SocketAddress,
    pub advertise: Option<SocketAddress>,
    pub name: Option<String>,
    pub virtual_ip: bool,
    pub agname: Option<String>,
}

/// `[proto:]host[:port]`; several hosts for SCTP multihoming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketAddress {
    pub proto: Option<String>,
    pub hosts: Vec<String>,
    pub port: Option<String>,
}

impl SocketAddress {
    /// A lone word such as `localhost` or `LOG_LOCAL0`: no protocol, no port, not an IP.
    pub fn as_single_word(&self) -> Option<&str> {
        match (self.proto.as_ref(), self.hosts.as_slice(), self.port.as_ref()) {
            (None, [host], None) if !host.contains(['.', ':', '[', '*', '"']) => Some(host),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CfgVar {
    /// `group.name`
    pub name: Spanned<String>,
    pub value: Spanned<Literal>,
    pub description: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FlagDef {
    pub name: Spanned<String>,
    pub bit: Option<Spanned<i64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SocketBlock {
    pub attributes: Vec<(Spanned<String>, Spanned<String>)>,
    pub span: Span,
}

/// What kind of route block a header declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockKind {
    /// `request_route`, `route`, `route[0]`.
    Request,
    /// `route[NAME]`.
    Route,
    /// `reply_route`, unnamed `onreply_route`, `onreply_route[0]`.
    CoreReply,
    /// `onreply_route[NAME]`.
    OnReply,
    Failure,
    Branch,
    OnSend,
    Event,
}

impl BlockKind {
    /// The table of named blocks this kind lives in, if it is named.
    pub fn named_kind(self) -> Option<RouteKind> {
        match self {
            BlockKind::Route => Some(RouteKind::Plain),
            BlockKind::OnReply => Some(RouteKind::Reply),
            BlockKind::Failure => Some(RouteKind::Failure),
            BlockKind::Branch => Some(RouteKind::Branch),
            _ => None,
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Request => "request_route",
            BlockKind::Route => "route",
            BlockKind::CoreReply => "reply_route",
            BlockKind::OnReply => "onreply_route",
            BlockKind::Failure => "failure_route",
            BlockKind::Branch => "branch_route",
            BlockKind::OnSend => "onsend_route",
            BlockKind::Event => "event_route",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteBlock {
    pub kind: BlockKind,
    /// Normalised name (`route[0x1]` → "1"), or the event name for `event_route`.
    pub name: Option<Spanned<String>>,
    pub body: Block,
    /// The header, e.g. `route[RELAY]`.
    pub header: Span,
    pub span: Span,
}

impl RouteBlock {
    /// `route[RELAY]`, `request_route`, `event_route[xhttp:request]`.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("{}[{}]", self.kind.keyword(), name.node),
            None => self.kind.keyword().to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// A stray `;`.
    Empty,
    Block(Block),
    If {
        cond: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    While {
        cond: Expr,
        body: Box<Stmt>,
    },
    Switch {
        subject: Expr,
        arms: Vec<SwitchArm>,
    },
    /// `return`, `return(e)`, `return e`.
    Return(Option<Expr>),
    Exit(Option<Expr>),
    Drop(Option<Expr>),
    Break,
    Assign {
        target: Pv,
        value: Expr,
    },
    Call(Call),
    Route(RouteRef),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SwitchArm {
    pub label: CaseLabel,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CaseLabel {
    Default,
    /// `case 1:`, `case "x":`, `case /"^re":` (regex).
    Value {
        value: Expr,
        regex: bool,
    },
}

/// A function call: a module function or a core command.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Spanned<String>,
    pub args: Vec<Arg>,
    /// `force_rport;` has none; module functions need them.
    pub has_parens: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub value: ArgValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    Expr(Expr),
    /// `uri:host` (core forward)
    UriHost,
    /// `uri:port` (core forward)
    UriPort,
    /// `udp:1.2.3.4:5060` (force_send_socket)
    Socket(SocketAddress),
    /// `1.2.3.4`, `[::1]`, `sip.example.com` (core forward)
    Host(String),
}

impl ArgValue {
    pub fn as_expr(&self) -> Option<&Expr> {
        match self {
            ArgValue::Expr(e) => Some(e),
            _ => None,
        }
    }
}

/// `route(NAME)` as a statement or a value.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRef {
    pub target: RouteTarget,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RouteTarget {
    /// Resolved at compile time; numbers are normalised to decimal text.
    Name(Spanned<String>),
    /// `route($var(r))`: looked up at run time.
    Dynamic(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Str(String),
    Pv(Pv),
    /// `@cfg_get.pstn.gw_ip`
    Select(String),
    Call(Call),
    Route(RouteRef),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Strlen(Box<Expr>),
    Strempty(Box<Expr>),
    /// `selval(cond, a, b)`
    Selval {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `method`, `src_ip`... (only as the left side of a comparison, or right of `myself`)
    Keyword(Keyword),
    /// `myself`
    Myself,
    /// An IP literal, possibly with `/bits` or `/mask` (right of `src_ip ==` & co).
    Ip(String),
    /// A bare word right of a keyword comparison (`method == INVITE`, `proto == udp`) or a
    /// dotted host name (`src_ip == gw.example.com`).
    Word(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keyword {
    Method,
    Uri,
    Status,
    FromUri,
    ToUri,
    SrcIp,
    DstIp,
    SndIp,
    ToIp,
    SrcPort,
    DstPort,
    SndPort,
    ToPort,
    Proto,
    SndProto,
    ToProto,
    Af,
    SndAf,
    ToAf,
    MsgLen,
}

impl Keyword {
    pub fn from_word(word: &str) -> Option<Keyword> {
        Some(match word {
            "method" => Keyword::Method,
            "uri" => Keyword::Uri,
            "status" => Keyword::Status,
            "from_uri" => Keyword::FromUri,
            "to_uri" => Keyword::ToUri,
            "src_ip" => Keyword::SrcIp,
            "dst_ip" => Keyword::DstIp,
            "snd_ip" => Keyword::SndIp,
            "to_ip" => Keyword::ToIp,
            "src_port" => Keyword::SrcPort,
            "dst_port" => Keyword::DstPort,
            "snd_port" => Keyword::SndPort,
            "to_port" => Keyword::ToPort,
            "proto" => Keyword::Proto,
            "snd_proto" => Keyword::SndProto,
            "to_proto" => Keyword::ToProto,
            "af" => Keyword::Af,
            "snd_af" => Keyword::SndAf,
            "to_af" => Keyword::ToAf,
            "msg:len" => Keyword::MsgLen,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Method => "method",
            Keyword::Uri => "uri",
            Keyword::Status => "status",
            Keyword::FromUri => "from_uri",
            Keyword::ToUri => "to_uri",
            Keyword::SrcIp => "src_ip",
            Keyword::DstIp => "dst_ip",
            Keyword::SndIp => "snd_ip",
            Keyword::ToIp => "to_ip",
            Keyword::SrcPort => "src_port",
            Keyword::DstPort => "dst_port",
            Keyword::SndPort => "snd_port",
            Keyword::ToPort => "to_port",
            Keyword::Proto => "proto",
            Keyword::SndProto => "snd_proto",
            Keyword::ToProto => "to_proto",
            Keyword::Af => "af",
            Keyword::SndAf => "snd_af",
            Keyword::ToAf => "to_af",
            Keyword::MsgLen => "msg:len",
        }
    }

    /// `snd_*`/`to_*` describe the outgoing message: only `onsend_route` has one.
    pub fn onsend_only(self) -> bool {
        matches!(
            self,
            Keyword::SndIp
                | Keyword::ToIp
                | Keyword::SndPort
                | Keyword::ToPort
                | Keyword::SndProto
                | Keyword::ToProto
                | Keyword::SndAf
                | Keyword::ToAf
        )
    }

    /// Keywords compared with an IP address (`src_ip == 10.0.0.0/8`, `== myself`).
    pub fn is_address(self) -> bool {
        matches!(self, Keyword::SrcIp | Keyword::DstIp | Keyword::SndIp | Keyword::ToIp)
    }

    /// Keywords compared as numbers (`<`, `>` allowed).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Keyword::SrcPort
                | Keyword::DstPort
                | Keyword::SndPort
                | Keyword::ToPort
                | Keyword::Af
                | Keyword::SndAf
                | Keyword::ToAf
                | Keyword::MsgLen
        )
    }

    /// Keywords compared with a URI (`== myself` allowed).
    pub fn is_uri(self) -> bool {
        matches!(self, Keyword::Uri | Keyword::FromUri | Keyword::ToUri)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `!` / `not`
    Not,
    /// `~`
    BitNot,
    /// `-`
    Neg,
    /// `defined`
    Defined,
    /// `(int)`
    IntCast,
    /// `(str)`
    StrCast,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    BitOr,
    BitAnd,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    /// `=~`: POSIX extended regex, case-insensitive.
    Match,
    /// `eq`: string compare.
    StrEq,
    StrNe,
    /// `ieq`: integer compare.
    IntEq,
    IntNe,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Match => "=~",
            BinaryOp::StrEq => "eq",
            BinaryOp::StrNe => "ne",
            BinaryOp::IntEq => "ieq",
            BinaryOp::IntNe => "ine",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "mod",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Match
                | BinaryOp::StrEq
                | BinaryOp::StrNe
                | BinaryOp::IntEq
                | BinaryOp::IntNe
                | BinaryOp::Lt
                | BinaryOp::Gt
                | BinaryOp::Le
                | BinaryOp::Ge
        )
    }
}

/// A pseudo-variable reference: `$ru`, `$var(x)`, `$(avp(a)[1]{s.len})`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pv {
    /// `ru`, `var`, `avp`, `T_reply_code`, `?`...
    pub class: String,
    /// The text in parentheses, if any (`x` in `$var(x)`). May embed PVs (`ipban=>$si`).
    pub inner: Option<String>,
    pub index: Option<PvIndex>,
    pub transforms: Vec<Transform>,
    /// PVs written inside the inner name, the index or transformation parameters.
    pub nested: Vec<Pv>,
    pub span: Span,
}

impl Pv {
    /// How the user wrote it (normalised), for messages.
    pub fn display(&self) -> String {
        let base = match &self.inner {
            Some(inner) => format!("{}({})", self.class, inner),
            None => self.class.clone(),
        };
        if self.index.is_none() && self.transforms.is_empty() {
            format!("${base}")
        } else {
            let index = match &self.index {
                Some(PvIndex::Int(n)) => format!("[{n}]"),
                Some(PvIndex::All) => "[*]".to_string(),
                Some(PvIndex::Append) => "[+]".to_string(),
                Some(PvIndex::Pv(pv)) => format!("[{}]", pv.display()),
                None => String::new(),
            };
            let transforms: String = self.transforms.iter().map(|t| format!("{{{}}}", t.text)).collect();
            format!("$({base}{index}{transforms})")
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PvIndex {
    Int(i64),
    /// `[*]`
    All,
    /// `[+]`
    Append,
    Pv(Box<Pv>),
}

/// `{s.substr,1,2}`: class `s`, name `substr`, params `1`, `2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    pub class: String,
    pub name: String,
    pub params: Vec<String>,
    /// The text between the braces.
    pub text: String,
    pub span: Span,
}
