"""A loopback emulator of Google Calendar v3, Gmail v1 drafts and the OAuth token
endpoint, driven in tests through the real google-api-python-client and google-auth.

    with Emulator() as emu:
        creds = emu.credentials()
        cfg = Config(google=GoogleConfig(account=emu.account, api_endpoint=emu.base_url))

The pytest fixture ``google_emulator`` (``emulator.fixtures``) starts one per test.
"""

from .errors import ApiError
from .faults import Fault
from .server import Emulator, RequestRecord

__all__ = ["ApiError", "Emulator", "Fault", "RequestRecord"]
