"""Fails loudly when a moto upgrade moves or reshapes an internal that sim/aws patches or reads."""

from __future__ import annotations

import moto
import pytest

from sim.aws import AwsSimulator, moto_seams


def test_moto_is_the_pinned_version():
    assert moto.__version__ == moto_seams.MOTO_VERSION, (
        f"sim/aws/moto_seams/ is written against moto {moto_seams.MOTO_VERSION}; re-check every seam"
    )


@pytest.mark.parametrize("seam", moto_seams.SEAMS, ids=lambda s: f"{getattr(s.owner, '__name__', s.owner)}.{s.name}")
def test_patched_moto_attribute_exists_with_the_expected_signature(seam):
    assert hasattr(seam.owner, seam.name), f"moto no longer has {seam.owner}.{seam.name}"
    assert moto_seams.signature_of(seam) == seam.parameters, (
        f"moto changed the signature of {seam.owner}.{seam.name}: re-check what the seam restores: {seam.restores}"
    )


def test_every_seam_says_which_aws_behaviour_it_restores():
    assert all(seam.restores.strip() for seam in moto_seams.SEAMS)


def test_lambda_function_still_carries_the_attributes_the_runtime_reads(aws: AwsSimulator, lambda_client,
                                                                        make_function):
    from moto.awslambda.utils import get_backend

    name = make_function("def handler(event, context):\n    return 1\n")
    function = get_backend("123456789012", "us-east-1").get_function(name)
    missing = [a for a in moto_seams.FUNCTION_ATTRIBUTES if not hasattr(function, a)]
    assert missing == []
    config = moto_seams.function_config(function)
    assert (config.name, config.version, config.handler, config.runtime) == (name, "$LATEST", "app.handler",
                                                                              "python3.11")
    assert len(config.code_sha256) == 64


def test_patches_are_active_while_a_simulator_runs(aws: AwsSimulator):
    from moto.awslambda.models import LambdaFunction

    assert moto_seams.running_hosts() >= 1
    assert LambdaFunction.invoke is moto_seams.core._lambda_invoke
