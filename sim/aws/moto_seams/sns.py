"""SNS Publish errors worded as AWS words them. Registered with `core.register` at import.

Wordings from Step Functions executions recorded on AWS (LocalStack's
tests/aws/services/stepfunctions/v2/services/test_sns_task_service.snapshot.json): a missing topic is
NotFound "Topic does not exist"; a FIFO topic without MessageGroupId is InvalidParameter "Invalid
parameter: The MessageGroupId parameter is required for FIFO topics".
"""

from __future__ import annotations

import itertools
from typing import Any

from moto.sns.exceptions import InvalidParameterValue
from moto.sns.models import SNSBackend
from moto.sns.responses import SNSResponse

from sim import context as sim_context
from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL_PUBLISH = SNSBackend.publish


def _publish(self: SNSBackend, message: str, arn: str | None, *args: Any, **kwargs: Any) -> str:
    """Wraps `SNSBackend.publish`.

    Restores: publishing to a topic ARN that names no topic fails with NotFound "Topic does not exist"
    (moto looked for a platform endpoint instead and answered "Endpoint does not exist"); a FIFO topic
    without MessageGroupId fails with InvalidParameter (moto: MissingParameter).
    """
    is_topic_arn = bool(arn) and ":sns:" in str(arn) and "/" not in str(arn).split(":sns:", 1)[1]
    if is_topic_arn:
        topic = self.get_topic(str(arn))  # raises TopicNotFound, "Topic does not exist"
        group_id = kwargs.get("group_id", args[3] if len(args) > 3 else None)
        if topic.fifo_topic and not group_id:
            raise InvalidParameterValue("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    return _ORIGINAL_PUBLISH(self, message, arn, *args, **kwargs)


_ORIGINAL_PUBLISH_RESPONSE = SNSResponse.publish
# SequenceNumber is "a large, non-consecutive number" of 128 bits, shown as 20 digits (API reference, Publish).
_FIRST_SEQUENCE_NUMBER = 10_000_000_000_000_000_000


def _publish_response(self: SNSResponse) -> Any:
    """Wraps `SNSResponse.publish`: a message published to a FIFO topic is answered with its
    `SequenceNumber` (increasing per topic), as AWS answers; moto answered the MessageId only."""
    result = _ORIGINAL_PUBLISH_RESPONSE(self)
    topic_arn = self._get_param("TopicArn") or self._get_param("TargetArn")
    body = result.result
    if topic_arn and isinstance(body, dict) and self.backend.topics.get(topic_arn) is not None \
            and self.backend.topics[topic_arn].fifo_topic:
        counter = sim_context.current().memo(("sns-sequence", topic_arn), lambda: itertools.count(1))
        body["SequenceNumber"] = str(_FIRST_SEQUENCE_NUMBER + next(counter) * 1_000)
    return result


register(
    [(SNSBackend, "publish", _publish), (SNSResponse, "publish", _publish_response)],
    [Seam(SNSBackend, "publish", ("self", "message", "arn", "phone_number", "subject", "message_attributes",
                                  "group_id", "deduplication_id", "message_structure"), _publish.__doc__ or "",
          proved_by="tests/sim/aws/test_sns_publish.py::test_publish_to_a_missing_topic_is_not_found_topic_does_not_exist"),
     Seam(SNSResponse, "publish", ("self",), _publish_response.__doc__ or "",
          proved_by="tests/sim/aws/test_sns_publish.py::test_fifo_publish_answers_an_increasing_20_digit_sequence_number")],
)

