"""The test's own side of the SQS server (moto, with its signature checks
on): what an AWS account holder would do with the AWS CLI.

    admin.py ENDPOINT setup QUEUE...           an IAM user allowed sqs:*, its
                                               key, and the queues; prints
                                               {"access_key_id", "secret_access_key"}
    admin.py ENDPOINT receive KEY SECRET QUEUE receives until the queue is
                                               empty, as an event source
                                               mapping would; prints the messages

The server must have been started with INITIAL_NO_AUTH_ACTION_COUNT=3, so
the three IAM calls of `setup` are the only unsigned ones it takes.
"""

import json
import sys

import boto3

REGION = "us-east-1"


def client(service, endpoint, key="unused", secret="unused"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def setup(endpoint, queues):
    iam = client("iam", endpoint)
    iam.create_user(UserName="cloudfn")
    key = iam.create_access_key(UserName="cloudfn")["AccessKey"]
    iam.put_user_policy(
        UserName="cloudfn",
        PolicyName="sqs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
    )
    sqs = client("sqs", endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    for queue in queues:
        attributes = {"FifoQueue": "true"} if queue.endswith(".fifo") else {}
        sqs.create_queue(QueueName=queue, Attributes=attributes)
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def receive(endpoint, key, secret, queue):
    sqs = client("sqs", endpoint, key, secret)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


def main():
    endpoint, command, *rest = sys.argv[1:]
    if command == "setup":
        print(json.dumps(setup(endpoint, rest)))
    elif command == "receive":
        print(json.dumps(receive(endpoint, *rest)))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
