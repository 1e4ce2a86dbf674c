"""Global object ids (the Relay Global Object Identification specification).

An id is opaque to clients: URL-safe base64, without padding, of the JSON array
``[type name, domain id, key]`` - the type that ``node(id:)`` resolves it as, the domain
the object lives in (so that ``node`` can scope the read as every other field does,
with or without a token), and the object's own key (``job_id``, ``collector_id``).
The same object always has the same id, whoever reads it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from gateway.display import json_text
from gateway.errors import InvalidParameterType

MAX_ID_LENGTH = 1024


@dataclass(frozen=True)
class GlobalId:
    """A decoded id: the GraphQL type name, the object's domain and its key."""

    type_name: str
    domain_id: str
    key: str

    def encode(self) -> str:
        """The opaque form clients see."""
        raw = json.dumps([self.type_name, self.domain_id, self.key], separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, types: frozenset[str]) -> GlobalId:
        """The id ``value`` stands for; raises ``InvalidParameterType`` naming the id
        when it is not one this gateway issued for one of ``types``."""
        problem = f"{json_text(value, 80)} is not an id this API issued."
        if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
            raise InvalidParameterType(problem)
        try:
            parts = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidParameterType(problem) from None
        if not (isinstance(parts, list) and len(parts) == 3 and all(isinstance(p, str) and p for p in parts)):
            raise InvalidParameterType(problem)
        if parts[0] not in types:
            raise InvalidParameterType(
                f"{json_text(value, 80)} is an id of a {json_text(parts[0])}, not of {', '.join(sorted(types))}."
            )
        return cls(*parts)


def global_id(type_name: str, domain_id: str, key: str) -> str:
    """The opaque id of the object ``key`` of type ``type_name`` in ``domain_id``."""
    return GlobalId(type_name, domain_id, key).encode()
