//! The gRPC face of contribution: converts requests, checks the caller,
//! asks registration and the rule book, calls the store, converts back.

use std::sync::Arc;

use shebao_api::common::v1::InsuranceType as ProtoInsuranceType;
use shebao_api::contribution::v1 as contribution_v1;
use shebao_kernel::clock::to_timestamp;
use shebao_kernel::{Caller, Clock, PrincipalKind};
use shebao_rules::{AssessmentLine, CreditCode, InsuranceType};
use tonic::{Request, Response, Status};

use crate::domain::{self, Contribution, Declaration, IndividualAccount, RegionRules};
use crate::error::{ContributionError, Result};
use crate::registration::EmploymentDirectory;
use crate::storage::ContributionStore;

/// Peers that may declare wages: the gateway, which forwards the employer,
/// staff or system principal it has authorised.
const WRITERS: &[&str] = &["gateway"];
/// Peers that may read contributions and accounts.
const READERS: &[&str] = &["gateway", "query"];

/// The `ContributionService` implementation.
#[derive(Debug, Clone)]
pub struct ContributionApi {
    store: Arc<dyn ContributionStore>,
    employments: Arc<dyn EmploymentDirectory>,
    rules: Arc<RegionRules>,
    clock: Arc<dyn Clock>,
}

/// The amounts a declaration must not carry: they are computed (R6.4).
fn computed_fields_sent(req: &contribution_v1::DeclareWageRequest) -> Option<&'static str> {
    [
        ("base_fen", req.base_fen.is_some()),
        ("employer_amount_fen", req.employer_amount_fen.is_some()),
        ("personal_amount_fen", req.personal_amount_fen.is_some()),
        ("account_credit_fen", req.account_credit_fen.is_some()),
    ]
    .into_iter()
    .find_map(|(field, set)| set.then_some(field))
}

/// Checks a wage declaration as received at `now`: no computed amount sent
/// (R6.4), a valid employer code, citizen ID and month, a month that has
/// begun, and a wage of zero or more within the sanity bound.
pub fn validate_declaration(
    req: &contribution_v1::DeclareWageRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Declaration> {
    if let Some(field) = computed_fields_sent(req) {
        // R6.4: amounts are computed from the original facts, never typed in
        return Err(ContributionError::Invalid {
            field,
            reason: "is computed by the rule set in force and must not be sent (R6.4)".into(),
        });
    }
    let credit_code = domain::parse_credit_code("credit_code", &req.credit_code)?;
    let citizen_id = domain::parse_citizen_id("citizen_id", &req.citizen_id)?;
    let month = domain::parse_past_month("month", req.month, domain::current_month(now)?)?;
    let declared_wage = domain::parse_declared_wage("declared_wage_fen", req.declared_wage_fen)?;
    Ok(Declaration {
        credit_code,
        citizen_id,
        month,
        declared_wage,
    })
}

/// The credit code of an employer principal, `None` for other callers. An
/// employer's principal id is its unified social credit code (R15.4).
fn employer_of(caller: &Caller) -> Result<Option<CreditCode>> {
    match &caller.external {
        Some(principal) if principal.kind == PrincipalKind::Employer => {
            CreditCode::parse(&principal.id).map(Some).map_err(|_| {
                ContributionError::NotPermitted(format!(
                    "{principal} is not a valid employer identity"
                ))
            })
        }
        _ => Ok(None),
    }
}

fn insurance_to_proto(insurance: InsuranceType) -> ProtoInsuranceType {
    match insurance {
        InsuranceType::Pension => ProtoInsuranceType::Pension,
        InsuranceType::Medical => ProtoInsuranceType::Medical,
        InsuranceType::Unemployment => ProtoInsuranceType::Unemployment,
        InsuranceType::WorkInjury => ProtoInsuranceType::WorkInjury,
        InsuranceType::Maternity => ProtoInsuranceType::Maternity,
    }
}

fn line_to_proto(line: &AssessmentLine) -> contribution_v1::ContributionLine {
    contribution_v1::ContributionLine {
        insurance_type: insurance_to_proto(line.insurance).into(),
        rule_id: line.rule_id.to_string(),
        base_fen: line.base.fen(),
        employer_fen: line.employer.fen(),
        personal_fen: line.personal.fen(),
        account_credit_fen: line.account_credit.fen(),
    }
}

/// Converts a contribution; the totals are the rule crate's sums of the
/// stored lines, which hold the computed values.
pub fn contribution_to_proto(c: &Contribution) -> contribution_v1::Contribution {
    contribution_v1::Contribution {
        citizen_id: c.citizen_id.as_str().to_string(),
        credit_code: c.credit_code.as_str().to_string(),
        month: c.month().yyyymm(),
        declared_wage_fen: c.assessment.declared_wage.fen(),
        lines: c.assessment.lines.iter().map(line_to_proto).collect(),
        employer_total_fen: c.assessment.employer_total().fen(),
        personal_total_fen: c.assessment.personal_total().fen(),
        declared_at: Some(to_timestamp(c.declared_at)),
        declared_by: c.declared_by.clone(),
    }
}

fn caller<T>(request: &Request<T>, allowed: &[&str]) -> Result<Caller> {
    let caller = Caller::of(request)?;
    caller.require_peer(allowed)?;
    Ok(caller)
}

impl ContributionApi {
    /// The API over `store`, asking `employments` who works where, computing
    /// with `rules` and stamping facts with `clock`.
    pub fn new(
        store: Arc<dyn ContributionStore>,
        employments: Arc<dyn EmploymentDirectory>,
        rules: Arc<RegionRules>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            employments,
            rules,
            clock,
        }
    }

    /// Records a declaration by `caller` and the contribution the rules
    /// compute for it.
    pub async fn declare(
        &self,
        caller: &Caller,
        req: &contribution_v1::DeclareWageRequest,
    ) -> Result<Contribution> {
        let now = self.clock.now();
        let declaration = validate_declaration(req, now)?;
        if let Some(own) = employer_of(caller)? {
            // R15.4: an employer acts only on its own contributions
            if own != declaration.credit_code {
                return Err(ContributionError::NotPermitted(format!(
                    "employer {} may not declare for employer {}",
                    own.as_str(),
                    declaration.credit_code.as_str()
                )));
            }
        }
        let employments = self
            .employments
            .employments(&declaration.citizen_id)
            .await?;
        if !declaration.is_covered_by(&employments) {
            return Err(ContributionError::Precondition(format!(
                "person {} has no employment at {} by {}",
                declaration.citizen_id.as_str(),
                declaration.credit_code.as_str(),
                declaration.month
            )));
        }
        // R6.4: the amounts come from the rule set in force for the month
        let assessment = self.rules.assess(&declaration)?;
        let contribution = Contribution {
            citizen_id: declaration.citizen_id,
            credit_code: declaration.credit_code,
            assessment,
            declared_at: now,
            declared_by: caller.actor(),
        };
        self.store.insert(&contribution).await?;
        tracing::info!(
            actor = %contribution.declared_by,
            month = %contribution.month(),
            "wage declared"
        );
        Ok(contribution)
    }

    /// Lists a person's contributions, oldest month first. An employer sees
    /// only those it declared (R15.4).
    pub async fn list(
        &self,
        caller: &Caller,
        req: &contribution_v1::ListContributionsRequest,
    ) -> Result<Vec<Contribution>> {
        let citizen_id = domain::parse_citizen_id("citizen_id", &req.citizen_id)?;
        let mut contributions = self.store.contributions_of(&citizen_id).await?;
        if let Some(own) = employer_of(caller)? {
            // R15.4: an employer sees its staff's R2.2 items for its own period only
            contributions.retain(|c| c.credit_code == own);
        }
        Ok(contributions)
    }

    /// Recomputes a person's pension individual account as of a month (R2.4).
    pub async fn balance(
        &self,
        caller: &Caller,
        req: &contribution_v1::GetAccountBalanceRequest,
    ) -> Result<IndividualAccount> {
        if employer_of(caller)?.is_some() {
            // R15.4: an employer may query R2.1 and R2.2 items only, not the account (R2.4)
            return Err(ContributionError::NotPermitted(
                "employers may not query individual accounts (R15.4)".into(),
            ));
        }
        let citizen_id = domain::parse_citizen_id("citizen_id", &req.citizen_id)?;
        let current = domain::current_month(self.clock.now())?;
        let asked = match req.as_of_month {
            0 => None,
            raw => Some(domain::parse_past_month("as_of_month", raw, current)?),
        };
        let credits = self.store.pension_credits_of(&citizen_id).await?;
        // Oldest month first: the last is the latest month with a credit.
        let at = asked
            .or_else(|| credits.last().map(|(month, _)| *month))
            .unwrap_or(current);
        let balance = self.rules.account_balance(&credits, at)?;
        Ok(IndividualAccount {
            citizen_id,
            as_of: at,
            balance,
        })
    }
}

#[tonic::async_trait]
impl contribution_v1::contribution_service_server::ContributionService for ContributionApi {
    #[tracing::instrument(skip_all)]
    async fn declare_wage(
        &self,
        request: Request<contribution_v1::DeclareWageRequest>,
    ) -> Result<Response<contribution_v1::DeclareWageResponse>, Status> {
        let caller = caller(&request, WRITERS)?;
        let contribution = self.declare(&caller, request.get_ref()).await?;
        Ok(Response::new(contribution_v1::DeclareWageResponse {
            contribution: Some(contribution_to_proto(&contribution)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_contributions(
        &self,
        request: Request<contribution_v1::ListContributionsRequest>,
    ) -> Result<Response<contribution_v1::ListContributionsResponse>, Status> {
        let caller = caller(&request, READERS)?;
        let contributions = self.list(&caller, request.get_ref()).await?;
        Ok(Response::new(contribution_v1::ListContributionsResponse {
            contributions: contributions.iter().map(contribution_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_account_balance(
        &self,
        request: Request<contribution_v1::GetAccountBalanceRequest>,
    ) -> Result<Response<contribution_v1::GetAccountBalanceResponse>, Status> {
        let caller = caller(&request, READERS)?;
        let account = self.balance(&caller, request.get_ref()).await?;
        Ok(Response::new(contribution_v1::GetAccountBalanceResponse {
            citizen_id: account.citizen_id.as_str().to_string(),
            as_of_month: account.as_of.yyyymm(),
            principal_fen: account.balance.principal.fen(),
            interest_fen: account.balance.interest.fen(),
            balance_fen: account.balance.balance.fen(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use async_trait::async_trait;
    use chrono::{TimeZone, Utc};
    use shebao_kernel::clock::FixedClock;
    use shebao_kernel::db::{self, DatabaseSettings};
    use shebao_kernel::{ApiError, Principal};
    use shebao_rules::{CitizenId, Fen, Month, RuleBook};
    use tonic::Code;

    use super::*;
    use crate::domain::Employment;
    use crate::storage::{Migrator, SqlContributionStore};

    const PERSON: &str = "350102198001010011";
    const OTHER_PERSON: &str = "350102199006150026";
    const UNREGISTERED: &str = "11010519491231002X";
    const EMPLOYER_A: &str = "91350100M000100Y43";
    const EMPLOYER_B: &str = "91350100M000200X5W";

    fn month(n: u32) -> Month {
        Month::from_yyyymm(n).expect("month")
    }

    fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 2, 0, 0)
            .single()
            .expect("instant")
    }

    fn request(
        credit_code: &str,
        citizen_id: &str,
        yyyymm: u32,
        wage: i64,
    ) -> contribution_v1::DeclareWageRequest {
        contribution_v1::DeclareWageRequest {
            credit_code: credit_code.into(),
            citizen_id: citizen_id.into(),
            month: yyyymm,
            declared_wage_fen: wage,
            ..Default::default()
        }
    }

    fn field_of(result: Result<impl std::fmt::Debug>) -> &'static str {
        match result {
            Err(ContributionError::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_declaration_carrying_a_computed_amount_is_refused_naming_the_field() {
        // R6.4: amounts are never typed in
        let mut cases = Vec::new();
        for field in [
            "base_fen",
            "employer_amount_fen",
            "personal_amount_fen",
            "account_credit_fen",
        ] {
            let mut req = request(EMPLOYER_A, PERSON, 202601, 500_000);
            match field {
                "base_fen" => req.base_fen = Some(0),
                "employer_amount_fen" => req.employer_amount_fen = Some(80_000),
                "personal_amount_fen" => req.personal_amount_fen = Some(40_000),
                _ => req.account_credit_fen = Some(40_000),
            }
            cases.push((field, req));
        }
        for (field, req) in cases {
            let error = validate_declaration(&req, now()).expect_err(field);
            let status = Status::from(error);
            assert_eq!(status.code(), Code::InvalidArgument, "{field}");
            assert!(status.message().starts_with(field), "{}", status.message());
            assert!(status.message().contains("R6.4"), "{}", status.message());
        }
    }

    #[test]
    fn a_computed_amount_is_refused_even_when_everything_else_is_wrong() {
        // R6.4 comes first: the caller learns not to send amounts at all
        let mut req = request("bad", "bad", 0, -1);
        req.personal_amount_fen = Some(1);
        assert_eq!(
            field_of(validate_declaration(&req, now())),
            "personal_amount_fen"
        );
    }

    #[test]
    fn each_invalid_field_of_a_declaration_is_named() {
        let cases = [
            (
                request("91350100M000100Y44", PERSON, 202601, 1),
                "credit_code",
            ),
            (
                request(EMPLOYER_A, "350102198001010012", 202601, 1),
                "citizen_id",
            ),
            (request(EMPLOYER_A, PERSON, 202613, 1), "month"),
            (request(EMPLOYER_A, PERSON, 0, 1), "month"),
            (request(EMPLOYER_A, PERSON, 202604, 1), "month"),
            (request(EMPLOYER_A, PERSON, 202601, -1), "declared_wage_fen"),
            (
                request(EMPLOYER_A, PERSON, 202601, 10_000_000_001),
                "declared_wage_fen",
            ),
        ];
        for (req, expected) in cases {
            assert_eq!(
                field_of(validate_declaration(&req, now())),
                expected,
                "{req:?}"
            );
        }
    }

    #[test]
    fn a_valid_declaration_is_normalised() {
        let declaration =
            validate_declaration(&request(EMPLOYER_A, PERSON, 202603, 0), now()).expect("valid");
        assert_eq!(declaration.month, month(202603));
        assert_eq!(declaration.declared_wage, Fen::ZERO);
        assert_eq!(declaration.credit_code.as_str(), EMPLOYER_A);
    }

    /// Registration as a map: persons missing from it are not registered.
    #[derive(Debug, Default)]
    struct FakeRegistration(HashMap<String, Vec<Employment>>);

    #[async_trait]
    impl EmploymentDirectory for FakeRegistration {
        async fn employments(&self, citizen_id: &CitizenId) -> Result<Vec<Employment>> {
            self.0.get(citizen_id.as_str()).cloned().ok_or_else(|| {
                ContributionError::NotFound(format!("person {}", citizen_id.as_str()))
            })
        }
    }

    struct Fixture {
        api: ContributionApi,
        _dir: tempfile::TempDir,
    }

    fn employment(code: &str, start: u32) -> Employment {
        Employment {
            credit_code: CreditCode::parse(code).expect("code"),
            start_month: month(start),
        }
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("contribution.db");
        let db = db::open::<Migrator>(&DatabaseSettings::sqlite(&path.display().to_string()))
            .await
            .expect("open");
        let registration = FakeRegistration(HashMap::from([
            (
                PERSON.to_string(),
                vec![
                    employment(EMPLOYER_A, 202401),
                    employment(EMPLOYER_B, 202602),
                ],
            ),
            (OTHER_PERSON.to_string(), vec![]),
        ]));
        let book = RuleBook::default_book();
        let region = *book.default_region();
        let api = ContributionApi::new(
            Arc::new(SqlContributionStore::new(db)),
            Arc::new(registration),
            Arc::new(RegionRules::new(book, region)),
            Arc::new(FixedClock(now())),
        );
        Fixture { api, _dir: dir }
    }

    fn via_gateway(principal: &str) -> Caller {
        Caller {
            peer: "gateway".into(),
            external: Some(principal.parse::<Principal>().expect("principal")),
        }
    }

    fn employer(code: &str) -> Caller {
        via_gateway(&format!("employer/{code}"))
    }

    fn code_of(error: ContributionError) -> Code {
        Status::from(ApiError::from(error)).code()
    }

    #[tokio::test]
    async fn a_declaration_is_assessed_by_the_rule_book_and_recorded_once() {
        // R2.2, R6.4: the amounts are those of the rule set in force
        let f = fixture().await;
        let req = request(EMPLOYER_A, PERSON, 202601, 300_000);
        let c = f
            .api
            .declare(&employer(EMPLOYER_A), &req)
            .await
            .expect("declared");
        let book = RuleBook::default_book();
        let expected = book
            .assess(book.default_region(), month(202601), Fen::new(300_000))
            .expect("assessed");
        assert_eq!(c.assessment, expected);
        assert_eq!(c.declared_by, format!("employer/{EMPLOYER_A}"));
        assert_eq!(c.declared_at, now());
        let proto = contribution_to_proto(&c);
        assert_eq!(proto.employer_total_fen, expected.employer_total().fen());
        assert_eq!(proto.personal_total_fen, expected.personal_total().fen());
        assert_eq!(proto.lines.len(), expected.lines.len());
        assert_eq!(
            proto.lines[0].insurance_type,
            i32::from(ProtoInsuranceType::Pension)
        );
        assert!(!proto.lines[0].rule_id.is_empty());

        let again = f.api.declare(&via_gateway("staff/op-1"), &req).await;
        assert_eq!(
            code_of(again.expect_err("second declaration")),
            Code::AlreadyExists
        );

        let listed = f
            .api
            .list(
                &via_gateway("staff/op-1"),
                &contribution_v1::ListContributionsRequest {
                    citizen_id: PERSON.into(),
                },
            )
            .await
            .expect("listed");
        assert_eq!(listed, vec![c]);
    }

    #[tokio::test]
    async fn an_employer_may_not_declare_for_another_employer() {
        // R15.4: an employer acts on its own contributions only
        let f = fixture().await;
        let req = request(EMPLOYER_A, PERSON, 202601, 300_000);
        let error = f
            .api
            .declare(&employer(EMPLOYER_B), &req)
            .await
            .expect_err("refused");
        assert_eq!(code_of(error), Code::PermissionDenied);
    }

    #[tokio::test]
    async fn a_declaration_without_an_employment_in_the_month_fails_its_precondition() {
        let f = fixture().await;
        let staff = via_gateway("staff/op-1");
        // employed by B only from 202602
        let early = request(EMPLOYER_B, PERSON, 202601, 300_000);
        assert_eq!(
            code_of(
                f.api
                    .declare(&staff, &early)
                    .await
                    .expect_err("before start")
            ),
            Code::FailedPrecondition
        );
        // registered, never employed
        let none = request(EMPLOYER_A, OTHER_PERSON, 202601, 300_000);
        assert_eq!(
            code_of(
                f.api
                    .declare(&staff, &none)
                    .await
                    .expect_err("no employment")
            ),
            Code::FailedPrecondition
        );
        // not registered at all: registration's NOT_FOUND passes through
        let unknown = request(EMPLOYER_A, UNREGISTERED, 202601, 300_000);
        assert_eq!(
            code_of(
                f.api
                    .declare(&staff, &unknown)
                    .await
                    .expect_err("unregistered")
            ),
            Code::NotFound
        );
        assert!(
            f.api
                .list(
                    &staff,
                    &contribution_v1::ListContributionsRequest {
                        citizen_id: PERSON.into()
                    }
                )
                .await
                .expect("listed")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_month_with_no_rule_in_force_fails_its_precondition() {
        // R6.4: nothing is computed without a rule fixed in advance
        let f = fixture().await;
        let registration = FakeRegistration(HashMap::from([(
            PERSON.to_string(),
            vec![employment(EMPLOYER_A, 180001)],
        )]));
        let api = ContributionApi {
            employments: Arc::new(registration),
            ..f.api.clone()
        };
        let req = request(EMPLOYER_A, PERSON, 180001, 300_000);
        let error = api
            .declare(&via_gateway("staff/op-1"), &req)
            .await
            .expect_err("no rule");
        assert_eq!(code_of(error), Code::FailedPrecondition);
    }

    #[tokio::test]
    async fn an_employer_lists_only_the_contributions_it_declared() {
        // R15.4: an employer sees its staff's R2.2 items for its own period only
        let f = fixture().await;
        let staff = via_gateway("staff/op-1");
        f.api
            .declare(&staff, &request(EMPLOYER_A, PERSON, 202602, 300_000))
            .await
            .expect("A declared");
        f.api
            .declare(&staff, &request(EMPLOYER_B, PERSON, 202602, 900_000))
            .await
            .expect("B declared");
        let req = contribution_v1::ListContributionsRequest {
            citizen_id: PERSON.into(),
        };
        assert_eq!(f.api.list(&staff, &req).await.expect("listed").len(), 2);
        let seen = f
            .api
            .list(&employer(EMPLOYER_B), &req)
            .await
            .expect("listed");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].credit_code.as_str(), EMPLOYER_B);
    }

    #[tokio::test]
    async fn the_account_balance_is_recomputed_from_every_employers_pension_credits() {
        // R2.4, R6.4: the balance is computed, never typed
        let f = fixture().await;
        let staff = via_gateway("staff/op-1");
        let mut credits = Vec::new();
        for (code, yyyymm, wage) in [
            (EMPLOYER_A, 202412, 300_000),
            (EMPLOYER_A, 202601, 500_000),
            (EMPLOYER_A, 202602, 500_000),
            (EMPLOYER_B, 202602, 700_000),
        ] {
            let c = f
                .api
                .declare(&staff, &request(code, PERSON, yyyymm, wage))
                .await
                .expect("declared");
            let line = c.pension_line().expect("pension line");
            credits.push((c.month(), line.account_credit));
        }
        let book = RuleBook::default_book();
        let region = *book.default_region();
        let ask = |as_of_month| contribution_v1::GetAccountBalanceRequest {
            citizen_id: PERSON.into(),
            as_of_month,
        };

        let latest = f.api.balance(&staff, &ask(0)).await.expect("balance");
        assert_eq!(latest.as_of, month(202602));
        let expected = book
            .account_balance(&region, &credits, month(202602))
            .expect("computed");
        assert_eq!(latest.balance, expected);
        assert!(
            latest.balance.interest.fen() > 0,
            "the 2024 year-end credited interest"
        );

        let before = f.api.balance(&staff, &ask(202412)).await.expect("balance");
        assert_eq!(
            before.balance,
            book.account_balance(&region, &credits, month(202412))
                .expect("computed")
        );

        let future = f
            .api
            .balance(&staff, &ask(202604))
            .await
            .expect_err("future");
        assert_eq!(code_of(future), Code::InvalidArgument);
        let employer_asks = f
            .api
            .balance(&employer(EMPLOYER_A), &ask(0))
            .await
            .expect_err("employer");
        assert_eq!(code_of(employer_asks), Code::PermissionDenied);
    }

    #[tokio::test]
    async fn a_person_without_contributions_has_a_zero_balance_as_of_the_current_month() {
        let f = fixture().await;
        let account = f
            .api
            .balance(
                &via_gateway("staff/op-1"),
                &contribution_v1::GetAccountBalanceRequest {
                    citizen_id: OTHER_PERSON.into(),
                    as_of_month: 0,
                },
            )
            .await
            .expect("balance");
        assert_eq!(account.as_of, month(202603));
        assert_eq!(account.balance, shebao_rules::AccountBalance::ZERO);
    }
}
