"""What the auth API and forms accept and answer."""
from marshmallow import Schema, fields, validate

from hub.auth.passwords import MAX_LENGTH
from hub.vocab import Role


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    otp = fields.String(required=True, validate=validate.Regexp(r"^\s*[0-9]{6}\s*$", error="Six digits."))


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Send as Authorization: Bearer <token>"})
    expires_at = fields.DateTime(required=True, metadata={
        "description": "When the token ends if it is not used (idle expiry); each use extends it, "
                       "up to absolute_expires_at."})
    absolute_expires_at = fields.DateTime(required=True)


class MeSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    organisation_id = fields.Integer(required=True)


# --- web forms -----------------------------------------------------------------------------

class PasswordStepForm(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))


class CodeForm(Schema):
    code = fields.String(required=True, validate=validate.Length(min=6, max=32))


class PasswordChangeForm(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))


class UserCreateForm(Schema):
    """An admin invites: no password (the person chooses it through a one-time link)."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    organisation_id = fields.Integer(required=True)
    role = fields.Enum(Role, by_value=True, required=True)


class ActivationForm(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    password_again = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
