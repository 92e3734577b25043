"""A loopback stand-in for IAM's SimulatePrincipalPolicy, which moto does not implement.

It speaks IAM's query protocol as boto3 parses it: form-encoded `ActionNames.member.N` in, an XML
`SimulatePrincipalPolicyResult` of `EvaluationResults` out, each `EvalDecision` one of `allowed`,
`explicitDeny` or `implicitDeny` (IAM API Reference, SimulatePrincipalPolicy and EvaluationResult,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html, checked 2026-12).
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"


class PolicySimulator:
    """Answers every simulated action `allowed` but those in `decisions`; `refuse` answers AccessDenied."""

    def __init__(self, decisions: dict[str, str] | None = None, refuse: bool = False,
                 roles: dict[str, str] | None = None):
        self.decisions = decisions or {}
        self.refuse = refuse
        self.roles = roles or {}  # GetRole: role name -> its ARN (with its path)
        self.principals: list[str] = []

    def __call__(self, environ: dict, start_response: Callable) -> object:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        form = request.form
        if form.get("Action") == "GetRole" and form.get("RoleName") in self.roles:
            return _role(str(form["RoleName"]), self.roles[str(form["RoleName"])])
        if form.get("Action") != "SimulatePrincipalPolicy":
            return _error(400, "InvalidAction", f"{form.get('Action')} is not offered here")
        if self.refuse:
            return _error(403, "AccessDenied",
                          "User is not authorized to perform: iam:SimulatePrincipalPolicy")
        self.principals.append(str(form.get("PolicySourceArn")))
        actions = [value for key, value in form.items(multi=True) if key.startswith("ActionNames.member.")]
        members = "".join(
            f"<member><EvalActionName>{escape(action)}</EvalActionName><EvalResourceName>*</EvalResourceName>"
            f"<EvalDecision>{self.decisions.get(action, 'allowed')}</EvalDecision>"
            "<MatchedStatements/><MissingContextValues/></member>"
            for action in actions
        )
        body = (f'<SimulatePrincipalPolicyResponse xmlns="{NAMESPACE}"><SimulatePrincipalPolicyResult>'
                f"<IsTruncated>false</IsTruncated><EvaluationResults>{members}</EvaluationResults>"
                "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>stand-in</RequestId>"
                "</ResponseMetadata></SimulatePrincipalPolicyResponse>")
        return Response(body, status=200, content_type="text/xml")


def _error(status: int, code: str, message: str) -> Response:
    body = (f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>")
    return Response(body, status=status, content_type="text/xml")


def _role(name: str, arn: str) -> Response:
    path = arn.split(":role", 1)[1].rsplit("/", 1)[0] + "/"
    body = (f'<GetRoleResponse xmlns="{NAMESPACE}"><GetRoleResult><Role><Path>{escape(path)}</Path>'
            f"<RoleName>{escape(name)}</RoleName><RoleId>AROAFAKEFORTESTS0000</RoleId><Arn>{escape(arn)}</Arn>"
            "<CreateDate>2026-12-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument>"
            "</Role></GetRoleResult><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>"
            "</GetRoleResponse>")
    return Response(body, status=200, content_type="text/xml")
