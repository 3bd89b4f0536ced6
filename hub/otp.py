"""`python -m hub.otp <otpauth URI>`: print the current TOTP code (for the demo, without a phone)."""
import sys

import pyotp

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m hub.otp 'otpauth://totp/...'")
    print(pyotp.parse_uri(sys.argv[1]).now())
