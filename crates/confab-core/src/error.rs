//! One error type for every layer. Each kind has a stable machine code; each
//! API dialect maps kinds to its own envelope. Internal errors carry their
//! cause for the log, never for the client.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or a value is out of bounds.
    InvalidArgument,
    /// A referenced user, group or record does not exist.
    NotFound,
    /// A unique key already exists (user id taken, already a member, ...).
    Conflict,
    /// The caller is authenticated but may not do this.
    PermissionDenied,
    /// The state forbids it: the owner quitting, a dismissed group, a block.
    FailedPrecondition,
    /// No token, or a token that is not a JWT.
    TokenMalformed,
    /// A token whose signature or claims do not check out.
    TokenInvalid,
    /// A token past its expiry.
    TokenExpired,
    /// A token replaced by a newer login or revoked by force-logout.
    TokenRevoked,
    /// A service outside Confab that a request needs (the app's account
    /// service) did not answer, or answered nonsense; the message says which.
    Unavailable,
    /// The caller asked too often (a rate limit on logins, tokens, SMS or
    /// connects); the message says when to try again.
    TooManyRequests,
    /// Anything else; the client sees only "internal error".
    Internal,
}

impl ErrorKind {
    /// The stable machine code of this kind, used in logs and docs.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::FailedPrecondition => "failed_precondition",
            ErrorKind::TokenMalformed => "token_malformed",
            ErrorKind::TokenInvalid => "token_invalid",
            ErrorKind::TokenExpired => "token_expired",
            ErrorKind::TokenRevoked => "token_revoked",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A domain field an error is about. The service names fields in domain
/// words; each dialect renders them with its own wire names (OpenIM's
/// `memberList`, Easemob's `usernames`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The user a request acts on.
    User,
    /// A list of users a request acts on (looked up, registered, checked).
    Users,
    /// Users to delete.
    UsersToDelete,
    /// Users whose registration is checked.
    UsersToCheck,
    /// The other user of a relation (friend, block target).
    OtherUser,
    /// Friends to import.
    FriendsToImport,
    /// The recipient of a message.
    Recipient,
    /// The recipients of a batch send.
    Recipients,
    /// Groups looked up.
    Groups,
    /// Members of a group: initial members, or members looked up.
    Members,
    /// Users invited to a group.
    Invitees,
    /// Members removed from a group.
    KickedMembers,
    /// The new owner of a group.
    NewOwner,
    /// A member's role.
    Role,
    Nickname,
    FaceUrl,
    PhoneNumber,
    Birth,
    Email,
    Gender,
    Ex,
    GroupName,
    Notification,
    Introduction,
    /// The message of a friend or join request.
    RequestMessage,
    /// The message answering a request.
    HandleMessage,
    Remark,
    ClientMessageId,
    SenderNickname,
    SenderFaceUrl,
    ContentType,
    Content,
    SessionType,
    /// Users @-mentioned in a message.
    Mentions,
    Seqs,
    /// How a user receives a conversation.
    ReceiveOption,
    /// Conversations changed or cleared together.
    Conversations,
    Password,
    /// A chatroom's member limit.
    MaxMembers,
    /// The action name of a notification.
    Action,
}

impl Field {
    /// The domain word for the field, used when no dialect renders it.
    pub fn name(self) -> &'static str {
        match self {
            Field::User => "user",
            Field::Users => "users",
            Field::UsersToDelete => "users_to_delete",
            Field::UsersToCheck => "users_to_check",
            Field::OtherUser => "other_user",
            Field::FriendsToImport => "friends_to_import",
            Field::Recipient => "recipient",
            Field::Recipients => "recipients",
            Field::Groups => "groups",
            Field::Members => "members",
            Field::Invitees => "invitees",
            Field::KickedMembers => "kicked_members",
            Field::NewOwner => "new_owner",
            Field::Role => "role",
            Field::Nickname => "nickname",
            Field::FaceUrl => "face_url",
            Field::PhoneNumber => "phone_number",
            Field::Birth => "birth",
            Field::Email => "email",
            Field::Gender => "gender",
            Field::Ex => "ex",
            Field::GroupName => "group_name",
            Field::Notification => "notification",
            Field::Introduction => "introduction",
            Field::RequestMessage => "request_message",
            Field::HandleMessage => "handle_message",
            Field::Remark => "remark",
            Field::ClientMessageId => "client_message_id",
            Field::SenderNickname => "sender_nickname",
            Field::SenderFaceUrl => "sender_face_url",
            Field::ContentType => "content_type",
            Field::Content => "content",
            Field::SessionType => "session_type",
            Field::Mentions => "mentions",
            Field::Seqs => "seqs",
            Field::ReceiveOption => "receive_option",
            Field::Conversations => "conversations",
            Field::Password => "password",
            Field::MaxMembers => "max_members",
            Field::Action => "action",
        }
    }
}

/// A domain error: a kind, the field it is about (if any), and a message
/// meant for the client (except for `Internal`, whose message is for the
/// log only).
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    field: Option<Field>,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            field: None,
            message: message.into(),
        }
    }
    /// An invalid value of `field`; `message` says what is wrong with it,
    /// without naming it (the dialect does).
    pub fn invalid_field(field: Field, message: impl Into<String>) -> Self {
        Self::invalid(message).with_field(field)
    }
    /// The same error, about `field`.
    pub fn with_field(mut self, field: Field) -> Self {
        self.field = Some(field);
        self
    }
    /// The field the error is about.
    pub fn field(&self) -> Option<Field> {
        self.field
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::FailedPrecondition, message)
    }
    /// An internal failure; `cause` goes to the log, never to a client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, cause.to_string())
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The text a client may see, with the field in domain words: the
    /// message, or "internal error" for internal failures, whose detail
    /// could leak database or I/O internals.
    pub fn client_message(&self) -> String {
        self.client_message_naming(Field::name)
    }

    /// `client_message` with the field named by a dialect: `name` gives the
    /// dialect's wire name of each field.
    pub fn client_message_naming(&self, name: impl Fn(Field) -> &'static str) -> String {
        match (self.kind, self.field) {
            (ErrorKind::Internal, _) => "internal error".to_owned(),
            (_, Some(field)) => format!("{}: {}", name(field), self.message),
            (_, None) => self.message.clone(),
        }
    }

    /// The full message, for logs.
    pub fn log_message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(
                f,
                "{}: {}: {}",
                self.kind.code(),
                field.name(),
                self.message
            ),
            None => write!(f, "{}: {}", self.kind.code(), self.message),
        }
    }
}

impl std::error::Error for Error {}
