/**
 * `contain function` where the emulator cannot go, with aws-sdk-client-mock around the real calls: moto 5.2.1 keeps
 * one URL per function and ignores the Qualifier of the URL calls (no alias URLs), answers an event source mapping's
 * update with its final state at once (Lambda answers `Disabling`, then settles), and never shows a mapping in a
 * transitional state (Creating, Updating).
 */
import { expect } from "chai";
import { mockClient, type AwsStub } from "aws-sdk-client-mock";
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionUrlConfigsCommand,
  PutFunctionConcurrencyCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionUrlConfigCommand,
  type LambdaClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from "@aws-sdk/client-lambda";
import { ClientFactory } from "../../../scripts/aws/clients";
import type { ContainContext } from "../../../scripts/contain/common";
import { containFunction, functionFindings, isFunctionUndo, undoFunction } from "../../../scripts/contain/function";
import { parseFunctionArg } from "../../../scripts/contain/function-read";
import { UsageError } from "../../../scripts/errors";
import { problemsOf } from "../../../scripts/oracle";
import { takeRecords } from "../../support/oracle/hooks";
import { MemoryLedger } from "./memory-ledger";

const ACCOUNT = "333333333333";
const REGION = "eu-west-1";
const ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:payroll-export`;
const OWN_URL = { FunctionUrl: "https://own.lambda-url.eu-west-1.on.aws/", FunctionArn: ARN };
const LIVE_URL = { FunctionUrl: "https://live.lambda-url.eu-west-1.on.aws/", FunctionArn: `${ARN}:live` };

describe("flz contain function where the emulator cannot go (aws-sdk-client-mock)", () => {
  // Created in before(), not at load time: a class-wide mock made while mocha loads the specs would stub the
  // emulator suites' clients too.
  let lambda: AwsStub<ServiceInputTypes, ServiceOutputTypes, LambdaClientResolvedConfig>;
  let ledger: MemoryLedger;
  let factory: ClientFactory;
  let ctx: ContainContext;

  before(() => {
    lambda = mockClient(LambdaClient);
  });
  beforeEach(() => {
    lambda.reset();
    ledger = new MemoryLedger("IR-1");
    factory = new ClientFactory({
      caseId: "IR-1",
      memberRoleName: "FlzMemberResponder",
      credentials: async () => ({ accessKeyId: "x", secretAccessKey: "y" }),
    });
    ctx = { factory, ledger, account: ACCOUNT, region: REGION, dryRun: false };
    lambda.on(GetFunctionConfigurationCommand).resolves({ FunctionName: "payroll-export", FunctionArn: ARN });
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 20 });
    lambda.on(PutFunctionConcurrencyCommand).resolves({});
    lambda.on(UpdateFunctionUrlConfigCommand).resolves({});
    lambda.on(UpdateEventSourceMappingCommand).resolves({ State: "Disabling" });
  });
  afterEach(() => factory.destroy());
  after(() => lambda.restore());

  it("closes the function's own URL and an alias's URL, each by its qualifier, and undo reopens both the same way", async () => {
    lambda.on(ListFunctionUrlConfigsCommand).resolves({
      FunctionUrlConfigs: [
        { ...OWN_URL, AuthType: "NONE", Cors: { AllowOrigins: ["*"] } } as never,
        { ...LIVE_URL, AuthType: "NONE" } as never,
        {
          FunctionUrl: "https://beta.lambda-url.eu-west-1.on.aws/",
          FunctionArn: `${ARN}:beta`,
          AuthType: "AWS_IAM",
        } as never,
      ],
    });
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
    const done = await containFunction(ctx, { name: "payroll-export" });
    const updates = lambda.commandCalls(UpdateFunctionUrlConfigCommand).map((c) => c.args[0].input);
    expect(updates).to.deep.equal([
      { FunctionName: "payroll-export", AuthType: "AWS_IAM" },
      { FunctionName: "payroll-export", Qualifier: "live", AuthType: "AWS_IAM" },
    ]);
    // The oracle authorized the alias's call on the alias's ARN (Lambda authorizes a qualified call on it), as the
    // member responder, through the ContainFunctions grant.
    const records = await takeRecords();
    expect(problemsOf(records)).to.deep.equal([]);
    const aliasCall = records.find(
      (r) => r.call.operation === "UpdateFunctionUrlConfig" && r.call.input.Qualifier === "live",
    );
    expect(aliasCall?.decisions.map((d) => [d.request.resource, d.verdict])).to.deep.equal([
      [`${ARN}:live`, "Allowed"],
    ]);
    expect(aliasCall?.decisions[0].grants.map((g) => g.sid)).to.include("ContainFunctions");
    expect(done.record?.details?.targets).to.deep.equal([
      `function-concurrency:${ACCOUNT}:${REGION}:payroll-export`,
      `function-url:${ACCOUNT}:${REGION}:payroll-export`,
      `function-url:${ACCOUNT}:${REGION}:payroll-export:live`,
    ]);

    const undo = done.record?.undo;
    if (!isFunctionUndo(undo)) throw new Error("no function undo recorded");
    lambda.reset();
    lambda.on(GetFunctionConfigurationCommand).resolves({ FunctionArn: ARN });
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 0 });
    lambda.on(ListFunctionUrlConfigsCommand).resolves({
      FunctionUrlConfigs: [
        { ...OWN_URL, AuthType: "AWS_IAM", Cors: { AllowOrigins: ["*"] } } as never,
        { ...LIVE_URL, AuthType: "AWS_IAM", Cors: { AllowOrigins: ["https://attacker.example"] } } as never,
      ],
    });
    const lines = await undoFunction(ctx, undo);
    expect(lambda.commandCalls(PutFunctionConcurrencyCommand).map((c) => c.args[0].input)).to.deep.equal([
      { FunctionName: "payroll-export", ReservedConcurrentExecutions: 20 },
    ]);
    expect(lambda.commandCalls(DeleteFunctionConcurrencyCommand)).to.have.length(0);
    expect(lambda.commandCalls(UpdateFunctionUrlConfigCommand).map((c) => c.args[0].input)).to.deep.equal([
      { FunctionName: "payroll-export", AuthType: "NONE" },
      { FunctionName: "payroll-export", Qualifier: "live", AuthType: "NONE" },
    ]);
    // CORS was never changed by containment: a later change is reported, not overwritten.
    expect(lines.join("\n")).to.match(/alias live\): its CORS settings changed since containment/);
  });

  it("disables an alias's trigger, counts Disabling as contained, and leaves an Updating trigger alone as a failure", async () => {
    lambda.on(ListFunctionUrlConfigsCommand).resolves({ FunctionUrlConfigs: [] });
    const mapping = (uuid: string, state: string, functionArn = ARN) => ({
      UUID: uuid,
      State: state,
      FunctionArn: functionArn,
      EventSourceArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${uuid}`,
    });
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        mapping("on-alias", "Enabled", `${ARN}:live`),
        mapping("busy", "Updating"),
        mapping("other-function", "Enabled", `${ARN}-reports`),
      ],
    });
    const done = await containFunction(ctx, { name: "payroll-export" });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).to.deep.equal([
      { UUID: "on-alias", Enabled: false },
    ]);
    expect(done.failures).to.deep.equal(["trigger busy is Updating and could not be disabled yet"]);
    expect(done.record).to.not.equal(undefined);

    const undo = done.record?.undo;
    if (!isFunctionUndo(undo)) throw new Error("no function undo recorded");
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 0 });
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [mapping("on-alias", "Disabling", `${ARN}:live`), mapping("busy", "Disabled")],
    });
    expect(await functionFindings(factory, undo)).to.deep.equal([]);
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [mapping("on-alias", "Enabling", `${ARN}:live`), mapping("busy", "Enabled")],
    });
    const findings = await functionFindings(factory, undo);
    expect(findings).to.have.length(2);
    expect(findings[0]).to.match(/trigger on-alias .* was re-enabled \(Enabling\)/);
    expect(findings[1]).to.match(/trigger busy .* was not enabled when contained/);
  });

  it("reads --function: a name or an unqualified ARN; a version, an alias or a partial ARN is refused in one line", () => {
    expect(parseFunctionArg("payroll-export")).to.deep.equal({ name: "payroll-export" });
    expect(parseFunctionArg(ARN)).to.deep.equal({ name: "payroll-export", account: ACCOUNT, region: REGION });
    for (const bad of [`${ARN}:7`, "payroll-export:live", `${ACCOUNT}:function:payroll-export`, "", "a/b"]) {
      expect(() => parseFunctionArg(bad), bad).to.throw(UsageError, /^--function /);
    }
  });
});
