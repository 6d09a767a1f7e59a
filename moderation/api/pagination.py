from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """`limit` and `offset` as the schema says: integers, or a 400 (DRF would ignore them)."""

    max_limit = 500

    def _integer(self, request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise serializers.ValidationError({name: ["A valid integer is required."]}) from None
        if value < minimum:
            raise serializers.ValidationError({name: [f"Ensure this value is greater than or equal to {minimum}."]})
        return value

    def get_limit(self, request):
        limit = self._integer(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return self._integer(request, self.offset_query_param, 0) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        minimum = {self.limit_query_param: 1, self.offset_query_param: 0}
        for parameter in parameters:
            parameter["schema"]["minimum"] = minimum[parameter["name"]]
        return parameters
