"""Every model has a factory (issue 13), and each makes a row its service would: checked here
for each, so that a factory broken by a change of its service fails here first."""

import pytest
from django.apps import apps

from tests import factories

FACTORIES = {
    factory._meta.model: factory
    for factory in vars(factories).values()
    if isinstance(factory, type)
    and issubclass(factory, factories.factory.django.DjangoModelFactory)
    and factory._meta.model is not None
}


def _model(ref):
    return apps.get_model(ref) if isinstance(ref, str) else ref


def test_every_model_of_confero_has_a_factory():
    made = {_model(model) for model in FACTORIES}
    models = [m for m in apps.get_models() if m.__module__.startswith("confero.")]

    assert [m.__name__ for m in models if m not in made and not m._meta.proxy] == []


@pytest.mark.django_db
@pytest.mark.parametrize("factory", list(FACTORIES.values()), ids=lambda f: f.__name__)
def test_each_factory_makes_a_row_of_its_model(factory):
    made = factory()

    assert isinstance(made, _model(factory._meta.model))
    assert made.pk is not None
    assert type(made).objects.filter(pk=made.pk).exists()
