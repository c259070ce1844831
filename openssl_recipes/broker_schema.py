"""The recipe's `nanomq:` section: where the files live on the device, the listener, the bridge.

Validated with the rest of the recipe (extra="forbid"); used by `conf` to render the brokers'
configuration. (Placeholder: filled in by the NanoMQ configuration work.)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class NanoMQIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def all_models(cls) -> list[type[BaseModel]]:
        """Every model of this section, so unknown keys can be matched against their names."""
        return [cls]
